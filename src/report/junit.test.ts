import { describe, expect, it } from 'vitest';
import type { RunResult } from '../runner/types.js';
import { escapeXmlAttr, escapeXmlText, toJUnitXml } from './junit.js';
import {
  changedHost,
  expectNoSecret,
  failedHost,
  sampleRun,
  unreachableHost,
} from '../../test/utils/run-results.js';
import { parseXml, type XmlNode } from '../../test/utils/xml.js';

function suites(xml: string): XmlNode[] {
  const doc = parseXml(xml);
  expect(doc.name).toBe('testsuites');
  return doc.children;
}

describe('toJUnitXml', () => {
  it('has a testsuite per host and a testcase per task', () => {
    const doc = parseXml(toJUnitXml(sampleRun()));
    expect(doc.attrs).toMatchObject({
      name: 'hermes-fleet run',
      tests: '20',
      failures: '1',
      errors: '1',
      skipped: '2',
    });
    expect(doc.children.map((s) => s.attrs.name)).toEqual([
      'web01',
      'web02',
      'web03',
      'web04',
      'web05',
    ]);
    const [web01] = doc.children;
    expect(web01?.attrs).toMatchObject({
      tests: '6',
      failures: '0',
      errors: '0',
      skipped: '0',
      time: '1.234',
    });
    expect(
      web01?.children.map((c) => [
        c.name,
        c.attrs.classname,
        c.attrs.name,
        c.attrs.time,
        c.children.length,
      ]),
    ).toEqual([
      ['testcase', 'hermes-fleet.web01', 'users', '0.120', 0],
      ['testcase', 'hermes-fleet.web01', 'dirs', '0.120', 0],
      ['testcase', 'hermes-fleet.web01', 'merge', '0.120', 0],
      ['testcase', 'hermes-fleet.web01', 'secrets', '0.120', 0],
      ['testcase', 'hermes-fleet.web01', 'docs', '0.120', 0],
      ['testcase', 'hermes-fleet.web01', 'service', '0.120', 0],
    ]);
  });

  it('marks a failed task with <failure> and a skipped one with <skipped/>', () => {
    const web03 = suites(toJUnitXml(sampleRun()))[2];
    const docs = web03?.children.find((c) => c.attrs.name === 'docs');
    expect(docs?.children).toEqual([
      { name: 'skipped', attrs: { message: 'no documents' }, children: [], text: '' },
    ]);
    const service = web03?.children.find((c) => c.attrs.name === 'service');
    expect(service?.children[0]).toEqual({
      name: 'failure',
      attrs: {
        type: 'failed',
        message: 'hermes-agent.service did not stay active\nlast log: boom',
      },
      children: [],
      text: 'hermes-agent.service did not stay active\nlast log: boom',
    });
  });

  it('reports an unreachable host as one connect testcase with an <error>', () => {
    const web04 = suites(toJUnitXml(sampleRun()))[3];
    expect(web04?.attrs).toMatchObject({ tests: '1', errors: '1' });
    expect(web04?.children).toHaveLength(1);
    expect(web04?.children[0]?.attrs.name).toBe('connect');
    expect(web04?.children[0]?.children[0]).toMatchObject({
      name: 'error',
      attrs: { type: 'unreachable', message: 'connect ETIMEDOUT 10.0.0.4:22' },
    });
  });

  it('turns would-change tasks into drift failures in check mode only', () => {
    const check = suites(toJUnitXml(sampleRun('check')))[0];
    const service = check?.children.find((c) => c.attrs.name === 'service')?.children[0];
    expect(service?.attrs).toEqual({
      type: 'drift',
      message:
        'would change: restart hermes-agent.service (config.yaml changed); wait until hermes-agent.service is healthy (3s)',
    });
    expect(check?.attrs.failures).toBe('5');
    expect(check?.children.find((c) => c.attrs.name === 'docs')?.children).toEqual([]);
    const run = suites(toJUnitXml(sampleRun('run')))[0];
    expect(run?.attrs.failures).toBe('0');
  });

  it('keeps a failure outside any task visible', () => {
    const host = { ...failedHost(), tasks: [], failedTask: 'merge' as const, message: 'bad YAML' };
    const [suite] = suites(toJUnitXml({ ...sampleRun(), hosts: [host] }));
    expect(suite?.children[0]?.attrs.name).toBe('merge');
    expect(suite?.children[0]?.children[0]).toMatchObject({ name: 'failure', text: 'bad YAML' });
  });

  it('survives hostile text: markup, ]]>, quotes, control characters', () => {
    const evil =
      'a<b>&c"d\'e ]]> <![CDATA[x]]> \u0000\u0001\u001b[31m\u0008 tab\tline\nend \ud800 \u{1f600}';
    const host = failedHost(`web"<&>`, evil);
    const unreachable = unreachableHost('web]]>');
    unreachable.message = evil;
    const result: RunResult = { ...sampleRun('check'), hosts: [host, unreachable, changedHost()] };
    const xml = toJUnitXml(result);
    expect(xml).not.toContain(']]>');
    expect(xml.includes('\u001b')).toBe(false);
    expectNoSecret(xml);
    const [first, second] = suites(xml);
    expect(first?.attrs.name).toBe('web"<&>');
    expect(first?.children[0]?.attrs.classname).toBe('hermes-fleet.web"<&>');
    const failure = first?.children.find((c) => c.attrs.name === 'service')?.children[0];
    const cleaned = 'a<b>&c"d\'e ]]> <![CDATA[x]]> [31m tab\tline\nend  \u{1f600}';
    expect(failure?.attrs.message).toBe(cleaned);
    expect(failure?.text).toBe(cleaned);
    expect(second?.attrs.name).toBe('web]]>');
  });
});

describe('XML escaping', () => {
  it('escapes text and attributes', () => {
    expect(escapeXmlText('<a & b>]]>')).toBe('&lt;a &amp; b&gt;]]&gt;');
    expect(escapeXmlAttr('"x"\n\'y\'\t')).toBe('&quot;x&quot;&#10;&apos;y&apos;&#9;');
  });
});
