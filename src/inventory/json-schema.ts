import * as z from 'zod';
import { inventorySchema } from './schema.js';

/** The JSON Schema editors use (yaml-language-server); draft-07 is what they all understand. */
export function inventoryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(inventorySchema, { target: 'draft-7' });
}
