import type { McpServerSettings } from '../../src/inventory/types.js';
import type { PlainMap } from './config-merge.js';

function nonEmpty(record: Record<string, string> | undefined): record is Record<string, string> {
  return record !== undefined && Object.keys(record).length > 0;
}

/**
 * One server as the module's `mcp_servers` mapAttrs renders it: only the fields that are set
 * (non-null, non-empty), `enabled` always, `args` whenever `command` is set (even `[]`), `tools`
 * without its empty lists, `sampling` without its null or empty fields.
 */
export function renderMcpServer(srv: McpServerSettings): PlainMap {
  const out: PlainMap = {};
  if (srv.command !== undefined) {
    out.command = srv.command;
    out.args = [...(srv.args ?? [])];
  }
  if (nonEmpty(srv.env)) out.env = { ...srv.env };
  if (srv.url !== undefined) out.url = srv.url;
  if (nonEmpty(srv.headers)) out.headers = { ...srv.headers };
  if (srv.auth !== undefined) out.auth = srv.auth;
  out.enabled = srv.enabled ?? true;
  if (srv.timeout !== undefined) out.timeout = srv.timeout;
  if (srv.connect_timeout !== undefined) out.connect_timeout = srv.connect_timeout;
  if (srv.tools !== undefined) {
    const tools: PlainMap = {};
    const { include = [], exclude = [] } = srv.tools;
    if (include.length > 0) tools.include = [...include];
    if (exclude.length > 0) tools.exclude = [...exclude];
    out.tools = tools;
  }
  if (srv.sampling !== undefined) {
    const s = srv.sampling;
    const sampling: PlainMap = { enabled: s.enabled ?? true };
    if (s.model !== undefined) sampling.model = s.model;
    if (s.max_tokens_cap !== undefined) sampling.max_tokens_cap = s.max_tokens_cap;
    if (s.timeout !== undefined) sampling.timeout = s.timeout;
    if (s.max_rpm !== undefined) sampling.max_rpm = s.max_rpm;
    if (s.max_tool_rounds !== undefined) sampling.max_tool_rounds = s.max_tool_rounds;
    if (s.allowed_models !== undefined && s.allowed_models.length > 0) {
      sampling.allowed_models = [...s.allowed_models];
    }
    if (s.log_level !== undefined) sampling.log_level = s.log_level;
    out.sampling = sampling;
  }
  return out;
}

export function renderMcpServers(servers: Readonly<Record<string, McpServerSettings>>): PlainMap {
  const out: PlainMap = {};
  for (const [name, srv] of Object.entries(servers)) out[name] = renderMcpServer(srv);
  return out;
}
