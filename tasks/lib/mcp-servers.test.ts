import { describe, expect, it } from 'vitest';
import { renderMcpServers } from './mcp-servers.js';

/**
 * Expected values are what the module's `mcp_servers = lib.mapAttrs (...) cfg.mcpServers` yields
 * for the same options with the submodule defaults (args [], env {}, headers {}, enabled true,
 * tools.include/exclude [], sampling.enabled true, everything else null).
 */
describe('renderMcpServers', () => {
  it('renders the module example servers', () => {
    expect(
      renderMcpServers({
        filesystem: {
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/user'],
        },
        'remote-api': {
          url: 'http://my-server:8080/v0/mcp',
          headers: { Authorization: 'Bearer x' },
        },
        'remote-oauth': { url: 'https://mcp.example.com/mcp', auth: 'oauth' },
      }),
    ).toEqual({
      filesystem: {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/user'],
        enabled: true,
      },
      'remote-api': {
        url: 'http://my-server:8080/v0/mcp',
        headers: { Authorization: 'Bearer x' },
        enabled: true,
      },
      'remote-oauth': { url: 'https://mcp.example.com/mcp', auth: 'oauth', enabled: true },
    });
  });

  it('includes args ([] by default) whenever command is set, and never without it', () => {
    expect(
      renderMcpServers({ a: { command: 'srv' }, b: { url: 'http://x', args: ['ignored'] } }),
    ).toEqual({
      a: { command: 'srv', args: [], enabled: true },
      b: { url: 'http://x', enabled: true },
    });
  });

  it('drops empty env/headers, keeps enabled: false, timeouts when set', () => {
    expect(
      renderMcpServers({
        s: { command: 'c', env: {}, headers: {}, enabled: false, timeout: 30, connect_timeout: 5 },
        t: { command: 'c', env: { A: '1' } },
      }),
    ).toEqual({
      s: { command: 'c', args: [], enabled: false, timeout: 30, connect_timeout: 5 },
      t: { command: 'c', args: [], env: { A: '1' }, enabled: true },
    });
  });

  it('filters empty tool lists (tools = {} when both are empty)', () => {
    expect(
      renderMcpServers({
        a: { url: 'u', tools: { include: ['read'], exclude: [] } },
        b: { url: 'u', tools: {} },
        c: { url: 'u', tools: { exclude: ['rm'] } },
      }),
    ).toEqual({
      a: { url: 'u', enabled: true, tools: { include: ['read'] } },
      b: { url: 'u', enabled: true, tools: {} },
      c: { url: 'u', enabled: true, tools: { exclude: ['rm'] } },
    });
  });

  it('filters null and empty sampling fields, keeping enabled', () => {
    expect(
      renderMcpServers({
        a: { url: 'u', sampling: {} },
        b: {
          url: 'u',
          sampling: {
            enabled: false,
            model: 'm',
            max_tokens_cap: 100,
            allowed_models: [],
            log_level: 'info',
          },
        },
        c: {
          url: 'u',
          sampling: { timeout: 10, max_rpm: 5, max_tool_rounds: 3, allowed_models: ['x', 'y'] },
        },
      }),
    ).toEqual({
      a: { url: 'u', enabled: true, sampling: { enabled: true } },
      b: {
        url: 'u',
        enabled: true,
        sampling: { enabled: false, model: 'm', max_tokens_cap: 100, log_level: 'info' },
      },
      c: {
        url: 'u',
        enabled: true,
        sampling: {
          enabled: true,
          timeout: 10,
          max_rpm: 5,
          max_tool_rounds: 3,
          allowed_models: ['x', 'y'],
        },
      },
    });
  });
});
