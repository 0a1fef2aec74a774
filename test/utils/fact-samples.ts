import { FACT_KINDS, type FactKind, type RequestOf } from '../../src/facts/fact-kinds.js';

/**
 * One request of each fact kind, with every optional field set (each record's example): the
 * tests that take these (what each kind sends, what read.sh knows) cover every kind.
 */
export const FACT_SAMPLES = Object.fromEntries(
  Object.entries(FACT_KINDS).map(([kind, record]) => [kind, record.example]),
) as { [K in FactKind]: RequestOf<K> };
