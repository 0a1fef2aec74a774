import { CHANGE_KINDS, CHANGE_RECORDS } from '../changes/index.js';
import { reportJsonSchema } from './json-schema.js';
import { reportChange } from './json.js';

/*
 * The parts of docs/report-schema.md that are made from the code, so that they cannot drift:
 * the table of change kinds (from each kind's record) and the JSON Schema (from the zod schema).
 * `npm run docs:schema` writes them; a test fails while the page differs.
 */

const KINDS_BEGIN = '<!-- change kinds: made by `npm run docs:schema` from src/changes -->';
const KINDS_END = '<!-- end of change kinds -->';
const SCHEMA_BLOCK = /```json schema\n[\s\S]*?\n```/;

/** One row per change kind: its name, what it does, the fields it adds to kind and summary. */
export function changeKindTable(): string {
  const rows = CHANGE_KINDS.map((kind) => {
    const { doc, example } = CHANGE_RECORDS[kind];
    const fields = Object.keys(reportChange('web01', example, { diff: false })).filter(
      (key) => key !== 'kind' && key !== 'summary',
    );
    const added = fields.length > 0 ? fields.map((f) => `\`${f}\``).join(', ') : '—';
    return `| \`${kind}\` | ${doc} | ${added} |`;
  });
  return [
    '| kind | what it does | its fields (in an example) |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The page with its generated parts made anew; the page is up to date when nothing changes. */
export function updateSchemaDoc(page: string): string {
  const begin = page.indexOf(KINDS_BEGIN);
  const end = page.indexOf(KINDS_END);
  if (begin < 0 || end < begin || !SCHEMA_BLOCK.test(page)) {
    throw new Error(
      `docs/report-schema.md must hold "${KINDS_BEGIN}" … "${KINDS_END}" and a \`\`\`json schema block`,
    );
  }
  const kinds = `${KINDS_BEGIN}\n${changeKindTable()}\n${page.slice(end)}`;
  const schema = `\`\`\`json schema\n${JSON.stringify(reportJsonSchema(), null, 2)}\n\`\`\``;
  return `${page.slice(0, begin)}${kinds}`.replace(SCHEMA_BLOCK, () => schema);
}
