import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS } from '../changes/index.js';
import { changeKindTable, updateSchemaDoc } from './schema-doc.js';

const page = () => readFileSync(new URL('../../docs/report-schema.md', import.meta.url), 'utf8');

describe('docs/report-schema.md', () => {
  it('is up to date with the change records and the schema (`npm run docs:schema` writes it)', () => {
    expect(updateSchemaDoc(page())).toBe(page());
  });

  it('lists every change kind', () => {
    const table = changeKindTable();
    for (const kind of CHANGE_KINDS) expect(table).toContain(`| \`${kind}\` |`);
  });

  it('refuses a page without the places it writes', () => {
    expect(() => updateSchemaDoc('# nothing here\n')).toThrow(/change kinds/);
  });
});
