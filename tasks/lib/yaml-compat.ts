import { Scalar, visit } from 'yaml';
import type {
  DocumentOptions,
  Node,
  ParseOptions,
  ScalarTag,
  SchemaOptions,
  Tags,
  ToStringOptions,
} from 'yaml';

/**
 * hermes reads config.yaml with PyYAML (`yaml.safe_load`), which speaks YAML 1.1 with its own
 * resolver. The `yaml` package's 1.1 schema is close; these adjustments make it read what PyYAML
 * reads and, above all, write only text that PyYAML reads back as the same values:
 * - booleans: PyYAML knows yes/no/true/false/on/off but not y/n (`y` stays a string);
 * - exponent floats: PyYAML needs a dot and a signed exponent (`1e3` is a string to it), so a
 *   number is written `1.0e+21`, never `1e+21`;
 * - sexagesimal numbers are written in decimal (re-emitting `1:20` as `01:20` would turn it into
 *   a string for PyYAML);
 * - the plain scalars `=` and `<<` make safe_load fail outright (outside a merge key), so the
 *   fleet always quotes them, and strings holding a tab too (PyYAML's scanner rejects a tab
 *   inside a plain scalar that the `yaml` package writes).
 */

const PYYAML_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PYYAML_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PYYAML_FLOAT_EXP =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*[eE][-+][0-9]+|\.[0-9][0-9_]*[eE][-+][0-9]+)$/;

const INT = 'tag:yaml.org,2002:int';
const FLOAT = 'tag:yaml.org,2002:float';
const BOOL = 'tag:yaml.org,2002:bool';
const MERGE = 'tag:yaml.org,2002:merge';

/** `1e+21` → `1.0e+21`: JSON-style exponents without a fraction are strings to PyYAML. */
export function pyyamlNumber(text: string): string {
  return /^[-+]?\d+e/i.test(text) ? text.replace(/e/i, '.0e') : text;
}

type Tag = Tags[number];
type Stringify = NonNullable<ScalarTag['stringify']>;

function adjust(tag: Tag): Tag {
  if (typeof tag !== 'object' || 'collection' in tag) return tag;
  if (tag.tag === MERGE) {
    // Parsed `<<` merge keys still merge, but a key the fleet writes is the string "<<".
    return { ...tag, identify: (v) => typeof v === 'symbol' && v.description === '<<' };
  }
  if (tag.tag === BOOL && tag.test) {
    const isTrue = tag.test.test('true');
    return { ...tag, test: isTrue ? PYYAML_TRUE : PYYAML_FALSE };
  }
  if ((tag.tag === INT || tag.tag === FLOAT) && tag.stringify) {
    const base: Stringify = tag.stringify;
    const decimal = tag.format === 'TIME';
    const stringify: Stringify = (item, ctx, onComment, onChompKeep) =>
      decimal && typeof item.value === 'number'
        ? pyyamlNumber(JSON.stringify(item.value))
        : pyyamlNumber(base(item, ctx, onComment, onChompKeep));
    const test = tag.format === 'EXP' ? { test: PYYAML_FLOAT_EXP } : {};
    return { ...tag, ...test, stringify };
  }
  return tag;
}

/** Options for parsing and creating documents as PyYAML would see them. */
export const PYYAML_DOCUMENT: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  // PyYAML accepts duplicate keys (the last one wins); refusing them would wipe such a file.
  uniqueKeys: false,
  customTags: (tags) => tags.map(adjust),
};

/** No folding of long strings, `[a, b]` for flow lists as PyYAML writes them. */
export const PYYAML_TO_STRING: ToStringOptions = {
  lineWidth: 0,
  minContentWidth: 0,
  flowCollectionPadding: false,
};

/** Quotes the plain scalars PyYAML cannot read back, in a node the fleet created. */
export function quoteUnsafeScalars(node: Node): void {
  visit(node, {
    Scalar(_key, scalar) {
      const v = scalar.value;
      if (v === '=' || v === '<<' || (typeof v === 'string' && v.includes('\t'))) {
        scalar.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
}
