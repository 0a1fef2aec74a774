import { describe, expect, it } from 'vitest';
import { expandHostPattern } from './host-ranges.js';

describe('expandHostPattern', () => {
  it('keeps a plain name', () => {
    expect(expandHostPattern('web1.example.com')).toEqual(['web1.example.com']);
  });
  it('pads numbers to the width written', () => {
    expect(expandHostPattern('web[01:03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandHostPattern('web[08:10]')).toEqual(['web08', 'web09', 'web10']);
    expect(expandHostPattern('web[001:002]')).toEqual(['web001', 'web002']);
    expect(expandHostPattern('web[9:11]')).toEqual(['web9', 'web10', 'web11']);
  });
  it('expands letters', () => {
    expect(expandHostPattern('node[a:c]')).toEqual(['nodea', 'nodeb', 'nodec']);
    expect(expandHostPattern('node-[X:Y].lan')).toEqual(['node-X.lan', 'node-Y.lan']);
  });
  it('expands several ranges, the last varying fastest', () => {
    expect(expandHostPattern('r[1:2]n[a:b]')).toEqual(['r1na', 'r1nb', 'r2na', 'r2nb']);
  });
  it('allows a one-element range', () => {
    expect(expandHostPattern('web[05:05]')).toEqual(['web05']);
  });
  it.each([
    ['web[05:01]', /reversed: write \[01:05\]/],
    ['web[c:a]', /reversed/],
    ['web[]', /must be \[start:end\]/],
    ['web[1:]', /must be \[start:end\]/],
    ['web[1:2:3]', /must be \[start:end\]/],
    ['web[1:c]', /two numbers/],
    ['web[a:C]', /two numbers/],
    ['web[1:2', /without a closing/],
    ['web1:2]', /without an opening/],
    ['web[1:100000]', /more than 10000 hosts/],
  ])('rejects %s', (pattern, message) => {
    expect(() => expandHostPattern(pattern)).toThrow(message);
  });
});
