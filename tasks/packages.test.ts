import { describe, expect, it } from 'vitest';
import { PlanError } from '../src/plan/types.js';
import { packagesTask } from './packages.js';
import { converge, freshFacts, makeFacts, planAll } from '../test/utils/facts.js';
import { makeHost } from '../test/utils/host.js';

const host = makeHost({ extraPackages: ['jq', 'ripgrep'] });

describe('packages', () => {
  it('asks for apt-get and each package, and nothing without extraPackages', () => {
    expect(packagesTask.facts(host)).toEqual([
      { kind: 'command', name: 'apt-get' },
      { kind: 'package', name: 'jq' },
      { kind: 'package', name: 'ripgrep' },
    ]);
    expect(packagesTask.facts(makeHost())).toEqual([]);
  });

  it('installs only the missing ones, in one apt-get', () => {
    const facts = makeFacts({ host, tasks: [packagesTask], commands: { 'apt-get': true } });
    facts.packages?.set('jq', true);
    expect(packagesTask.plan(host, facts, [])).toEqual([
      { kind: 'package-install', names: ['ripgrep'] },
    ]);
  });

  it('fails a host without apt-get, naming what is missing', () => {
    const facts = makeFacts({ host, tasks: [packagesTask] });
    expect(() => packagesTask.plan(host, facts, [])).toThrow(PlanError);
    expect(() => packagesTask.plan(host, facts, [])).toThrow(/no apt-get \(missing: jq, ripgrep\)/);
    // Nothing missing, nothing needed: a host without apt that has them is fine.
    facts.packages?.set('jq', true);
    facts.packages?.set('ripgrep', true);
    expect(packagesTask.plan(host, facts, [])).toEqual([]);
  });

  it('converges before the service task, and a second plan is empty', () => {
    const fresh = freshFacts(host, { commands: { 'apt-get': true } });
    const names = planAll(host, fresh).map((p) => p.task);
    expect(names.indexOf('packages')).toBe(names.indexOf('service') - 1);
    const facts = converge(host, fresh);
    expect(planAll(host, facts).flatMap((p) => p.changes)).toEqual([]);
  });
});
