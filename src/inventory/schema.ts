import * as z from 'zod';
import { dotenvProblem } from '../dotenv.js';
import { DOCUMENT_KEY } from './document-keys.js';
import { PLUGIN_NAME } from './plugin-archive.js';
import { IMAGE_ARCHIVE } from './image-archive.js';
import { ARCHIVE_ENDINGS } from './release-archive.js';
import { RESTART_VALUES } from './types.js';

/**
 * The one schema of the inventory. It validates every file (and `-e @file`), and
 * `z.toJSONSchema` of it is what `hermes-fleet schema` prints for editors, so value rules are
 * written as regexes and bounds (which JSON Schema can carry) wherever possible. Every object is
 * strict: a misspelt key must fail, never be ignored.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_MESSAGE =
  'not a valid environment variable name (letters, digits and _, not starting with a digit)';
/** Absolute, and nothing that would break a shell line or the request streams. */
const HOST_PATH = /^\/[^\n\t\r\0]*$/;
const HOST_PATH_MESSAGE = 'must be an absolute path (starting with /) without newline, tab or NUL';
/**
 * A host path that goes into the unit file (package, stateDir, workingDirectory): no quote,
 * backslash, $ or control character (C0, DEL, C1), which the unit could not carry safely.
 * Refused here, before any host is contacted, rather than at plan time (tasks/unit-file.ts).
 */
// Control characters are the point; spelt as ranges (not \p{Cc}) so JSON Schema carries them.
// eslint-disable-next-line no-control-regex
const UNIT_PATH = /^\/[^"'\\$\u0000-\u001f\u007f-\u009f]*$/;
const UNIT_PATH_MESSAGE =
  'must be an absolute path (starting with /) without newline, tab or other control character, quote, backslash or $ (a systemd unit cannot carry them safely)';
const LOCAL_PATH = /^[^\n\t\r\0]+$/;
const LOCAL_PATH_MESSAGE = 'must be a non-empty path without newline, tab or NUL';
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;
const ACCOUNT_MESSAGE =
  'must be a system account name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters';
const DOCUMENT_KEY_MESSAGE =
  'must be a file name (installed in workingDirectory) or a path relative to stateDir such as .hermes/SOUL.md: no leading "/", no empty, "." or ".." component, no newline, tab or NUL';
/**
 * An instance's name goes into its unit (`hermes-agent-<name>.service`), its container, its
 * default stateDir and its paths under /var/lib/hermes-fleet: lowercase letters, digits, `-` and
 * `_`, nothing systemd or a path would read specially.
 */
export const INSTANCE_NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
const INSTANCE_NAME_MESSAGE =
  'an instance name may use lowercase letters, digits, "-" and "_", starting with a letter or digit, at most 48 characters';
const ONE_LINE = /^[^\n\r\0]*$/;
const ONE_LINE_MESSAGE = 'must not contain a newline or NUL';
/** Host-name keys as written, ranges included (`web[01:20]`); ranges are expanded later. */
export const HOST_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-[\]:]*$/;
const HOST_KEY_MESSAGE =
  'a host name may use letters, digits, ".", "-", "_" and ranges like web[01:20]';
export const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const GROUP_NAME_MESSAGE = 'a group name may use letters, digits, ".", "-" and "_"';
const VOLUME = /^[^:\s\0]+:\/[^:\s\0]*(?::[A-Za-z,]+)?$/;
const VOLUME_MESSAGE = 'must be host:container[:mode] with an absolute container path';
const JUMP = /^(?:[^@\s:]+@)?(?:[^@\s:[\]]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * A Debian package name (Debian policy 5.6.7: lowercase letters, digits, `+`, `-` and `.`, at
 * least two, starting with a letter or digit), optionally with `:arch`: never read as an option.
 */
// Never ending in `-`: apt-get reads `name-` as a removal.
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]*[a-z0-9+.](?::[a-z0-9]+(?:-[a-z0-9]+)*)?$/;
const DEBIAN_PACKAGE_MESSAGE =
  'must be a Debian package name: lowercase letters, digits, "+", "-" and ".", at least two, starting with a letter or digit and not ending in "-" (apt-get would remove it) (optionally :arch)';

const RELEASE_ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.xz|tar\.zst)$/;
/**
 * A release's URL: http or https, then no whitespace, quote, backslash or control character (it
 * travels on stdin as a field, and curl or wget are given it as one argument). Its path must end
 * in an archive ending (the query, if any, comes after it): the ending says how to unpack it.
 */
const RELEASE_URL =
  // eslint-disable-next-line no-control-regex
  /^https?:\/\/[^/\s"'\\\u0000-\u001f\u007f-\u009f]+\/[^\s"'\\\u0000-\u001f\u007f-\u009f#?]*\.(tar|tar\.gz|tgz|tar\.xz|tar\.zst)(?:\?[^\s"'\\\u0000-\u001f\u007f-\u009f#]*)?$/;
const SHA256 = /^[0-9a-f]{64}$/;

const hostPath = () => z.string().regex(HOST_PATH, { error: HOST_PATH_MESSAGE });
const unitPath = () => z.string().regex(UNIT_PATH, { error: UNIT_PATH_MESSAGE });
const localPath = () => z.string().regex(LOCAL_PATH, { error: LOCAL_PATH_MESSAGE });
const oneLine = () => z.string().regex(ONE_LINE, { error: ONE_LINE_MESSAGE });
const seconds = () =>
  z.int({ error: 'must be a whole number of seconds' }).min(0, { error: 'must be 0 or more' });
const positiveInt = () => z.int({ error: 'must be a whole number' }).min(1);
const stringMap = () => z.record(z.string(), z.string());

export const sshSchema = z
  .strictObject({
    host: z
      .string()
      .regex(/^[^\s\0]+$/, { error: 'must be an address or DNS name without spaces' })
      .optional()
      .meta({ description: "Address or DNS name; default: the host's inventory name." }),
    port: z
      .int({ error: 'must be a whole number' })
      .min(1, { error: 'must be a port number from 1 to 65535' })
      .max(65535, { error: 'must be a port number from 1 to 65535' })
      .optional()
      .meta({ description: 'SSH port; default 22 (or ~/.ssh/config).' }),
    user: z
      .string()
      .regex(/^[^\s@:\0]+$/, { error: 'must be a user name without spaces, "@" or ":"' })
      .optional()
      .meta({ description: 'Login user; default: ~/.ssh/config, then the current user.' }),
    become: z
      .enum(['sudo', 'none'])
      .optional()
      .meta({ description: '`sudo` runs commands via `sudo -n`; default sudo unless root.' }),
    identityFile: localPath()
      .optional()
      .meta({ description: 'Private key on the control machine (relative to this file).' }),
    knownHosts: localPath().optional().meta({
      description: 'known_hosts file on the control machine; default ~/.ssh/known_hosts.',
    }),
    hostKeyPolicy: z
      .enum(['strict', 'accept-new', 'off'])
      .optional()
      .meta({ description: 'Host key checking; default strict.' }),
    jump: z
      .string()
      .regex(JUMP, { error: 'must be a bastion as [user@]host[:port]' })
      .optional()
      .meta({ description: 'Bastion as [user@]host[:port] (like ProxyJump).' }),
    connectTimeout: positiveInt().optional().meta({ description: 'Seconds; default 10.' }),
    passphraseEnv: z.string().regex(ENV_NAME, { error: ENV_NAME_MESSAGE }).optional().meta({
      description: "Environment variable on the control machine holding the key's passphrase.",
    }),
  })
  .meta({ id: 'Ssh', description: 'How to reach the host.' });

export const secretRefSchema = z
  .strictObject({
    env: z.string().regex(ENV_NAME, { error: ENV_NAME_MESSAGE }).optional(),
    file: localPath().optional(),
    command: z.string().min(1, { error: 'must not be empty' }).optional(),
  })
  .superRefine((ref, ctx) => {
    const count = [ref.env, ref.file, ref.command].filter((v) => v !== undefined).length;
    if (count !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'a secret needs exactly one of env, file or command',
      });
    }
  })
  .meta({
    id: 'SecretRef',
    description:
      'Exactly one of: env (a variable of the control machine), file (relative to this inventory file), command (run with /bin/sh -c; its stdout).',
  });

const fileRefSchema = z.strictObject({
  file: localPath().meta({ description: 'Local file, relative to this inventory file.' }),
});

const mcpServerSchema = z
  .strictObject({
    command: z.string().optional().meta({ description: 'Command (stdio transport).' }),
    args: z.array(z.string()).optional(),
    env: stringMap().optional(),
    url: z.string().optional().meta({ description: 'Endpoint URL (HTTP transport).' }),
    headers: stringMap().optional(),
    auth: z.enum(['oauth']).optional(),
    enabled: z.boolean().optional(),
    timeout: positiveInt().optional(),
    connect_timeout: positiveInt().optional(),
    tools: z
      .strictObject({
        include: z.array(z.string()).optional(),
        exclude: z.array(z.string()).optional(),
      })
      .optional(),
    sampling: z
      .strictObject({
        enabled: z.boolean().optional(),
        model: z.string().optional(),
        max_tokens_cap: positiveInt().optional(),
        timeout: positiveInt().optional(),
        max_rpm: positiveInt().optional(),
        max_tool_rounds: positiveInt().optional(),
        allowed_models: z.array(z.string()).optional(),
        log_level: z.enum(['debug', 'info', 'warning']).optional(),
      })
      .optional(),
  })
  .meta({ id: 'McpServer' });

const envValue = z.union([z.string(), z.number(), z.boolean()]);

const environmentSchema = z
  .record(z.string().regex(ENV_NAME, { error: ENV_NAME_MESSAGE }), envValue)
  .superRefine((env, ctx) => {
    for (const [key, value] of Object.entries(env)) {
      const problem = dotenvProblem(key, String(value));
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
    }
  });

export const hermesSchema = z
  .strictObject({
    package: unitPath()
      .optional()
      .meta({ description: 'Directory on the host holding bin/hermes; default /opt/hermes.' }),
    release: z
      .strictObject({
        archive: localPath()
          .regex(RELEASE_ARCHIVE, { error: `must be a file name ending in ${ARCHIVE_ENDINGS}` })
          .optional()
          .meta({ description: 'Local release archive, relative to the inventory file.' }),
        url: z
          .string()
          .regex(RELEASE_URL, {
            error: `must be an http:// or https:// URL whose path ends in ${ARCHIVE_ENDINGS}, without spaces, quotes, backslashes or control characters`,
          })
          .optional()
          .meta({
            description:
              'Where each host downloads the release itself (curl or wget), instead of archive; needs sha256.',
          }),
        sha256: z
          .string()
          .regex(SHA256, { error: 'must be 64 lowercase hex digits (sha256sum prints them)' })
          .optional()
          .meta({ description: "With url: the file's sha256, as the release page publishes it." }),
        root: unitPath().optional().meta({
          description: 'Holds releases/<id> and the current link; default /opt/hermes-agent.',
        }),
        keep: z
          .int({ error: 'must be a whole number' })
          .min(0, { error: 'must be 0 or more' })
          .optional()
          .meta({ description: 'Releases kept besides the current one; default 3.' }),
      })
      .optional()
      .meta({ description: 'Install hermes-agent from a release archive (not with package).' }),
    user: z.string().regex(ACCOUNT, { error: ACCOUNT_MESSAGE }).optional(),
    group: z.string().regex(ACCOUNT, { error: ACCOUNT_MESSAGE }).optional(),
    createUser: z.boolean().optional(),
    stateDir: unitPath().optional().meta({ description: 'Default /var/lib/hermes.' }),
    workingDirectory: unitPath().optional().meta({ description: 'Default <stateDir>/workspace.' }),
    settings: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Deep-merged into HERMES_HOME/config.yaml.' }),
    configFile: localPath()
      .optional()
      .meta({ description: 'Local config.yaml replacing the file instead of merging.' }),
    mcpServers: z.record(z.string(), mcpServerSchema).optional(),
    environment: environmentSchema
      .optional()
      .meta({ description: 'Non-secret variables for HERMES_HOME/.env.' }),
    secrets: z
      .record(z.string().regex(ENV_NAME, { error: ENV_NAME_MESSAGE }), secretRefSchema)
      .optional()
      .meta({ description: 'Secret variables for .env; never printed.' }),
    environmentFiles: z.array(hostPath()).optional(),
    authFile: localPath()
      .optional()
      .meta({ description: 'Local auth.json seeded on first deploy (a secret).' }),
    authFileForceOverwrite: z.boolean().optional(),
    documents: z
      .record(
        z.string().regex(DOCUMENT_KEY, { error: DOCUMENT_KEY_MESSAGE }),
        z.union([z.string(), fileRefSchema]),
      )
      .optional()
      .meta({
        description:
          'Files: a name lands in workingDirectory, a path with a directory relative to stateDir (.hermes/SOUL.md); value: inline text or { file: path }.',
      }),
    extraPackages: z
      .array(z.string().regex(DEBIAN_PACKAGE, { error: DEBIAN_PACKAGE_MESSAGE }))
      .optional()
      .meta({
        description:
          'Debian packages the gateway needs, installed with apt-get when missing (their binaries land on its PATH).',
      }),
    extraPlugins: z
      .array(
        z.union([
          localPath(),
          z.strictObject({
            path: localPath().meta({ description: 'Local directory or archive.' }),
            name: z
              .string()
              .regex(PLUGIN_NAME, {
                error:
                  'must be a plugin name: letters, digits, ".", "_" and "-", starting with a letter or digit',
              })
              .optional()
              .meta({ description: "Its name on the host; default: the file's base name." }),
          }),
        ]),
      )
      .optional()
      .meta({
        description:
          'Plugins: local directories (or archives of one) holding plugin.yaml, relative to the inventory file; installed root-owned, linked into HERMES_HOME/plugins as fleet-managed-<name>.',
      }),
    extraArgs: z.array(oneLine()).optional(),
    restart: z.enum(RESTART_VALUES).optional().meta({ description: 'systemd Restart=.' }),
    restartSec: seconds().optional().meta({ description: 'systemd RestartSec=; default 5.' }),
    healthCheck: z
      .strictObject({
        seconds: seconds()
          .optional()
          .meta({ description: 'The unit must stay active this long; default 3.' }),
        command: z
          .string()
          .regex(/^[^\0]+$/, { error: 'must be a non-empty command without NUL' })
          .optional()
          .meta({ description: 'Run on the host as the service user; must exit 0.' }),
      })
      .optional(),
    generations: z
      .strictObject({
        keep: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .optional()
          .meta({ description: 'Generations kept on each host (the newest); default 10.' }),
      })
      .optional()
      .meta({
        description: 'The record of each healthy change, in /var/lib/hermes-fleet/generations.',
      }),
    addToSystemPackages: z.boolean().optional(),
    container: z
      .strictObject({
        enable: z.boolean().optional(),
        backend: z.enum(['docker', 'podman']).optional(),
        image: z
          .string()
          // A leading "-" would reach docker/podman as an option (--privileged, -v /:/host).
          .regex(/^[^\s\0-][^\s\0]*$/, {
            error: 'must be an image name without spaces (or NUL) that does not start with "-"',
          })
          .optional(),
        imageArchive: localPath()
          .regex(IMAGE_ARCHIVE, {
            error:
              'must be a file name ending in .tar (what docker save -o or podman save -o writes)',
          })
          .optional()
          .meta({
            description:
              'Local docker save / podman save archive, relative to the inventory file; loaded on hosts that lack its image.',
          }),
        extraVolumes: z.array(z.string().regex(VOLUME, { error: VOLUME_MESSAGE })).optional(),
        extraOptions: z.array(oneLine()).optional(),
        hostUsers: z
          .array(z.string().regex(ACCOUNT, { error: ACCOUNT_MESSAGE }))
          .optional()
          .meta({
            description:
              "People on the host who share the gateway's state: added to its group, with ~/.hermes linked to HERMES_HOME (home /home/<name>).",
          }),
      })
      .optional(),
  })
  .meta({ id: 'Hermes', description: 'What to deploy (the NixOS module options).' });

/** A host's own entry, a group's `vars`, and `-e @file`. */
export const hostVarsSchema = z
  .strictObject({
    ssh: sshSchema.optional(),
    hermes: hermesSchema.optional(),
    instances: z
      .record(z.string().regex(INSTANCE_NAME, { error: INSTANCE_NAME_MESSAGE }), hermesSchema)
      .optional()
      .meta({
        description:
          'Several gateways on one host: name → the settings of hermes (which every instance inherits). Without it, hermes is the one instance.',
      }),
  })
  .meta({ id: 'HostVars' });

export interface GroupInput {
  vars?: z.infer<typeof hostVarsSchema> | null | undefined;
  hosts?: Record<string, z.infer<typeof hostVarsSchema> | null> | null | undefined;
  children?: Record<string, GroupInput | null> | null | undefined;
}

export const groupSchema: z.ZodType<GroupInput> = z
  .strictObject({
    vars: hostVarsSchema.nullable().optional(),
    hosts: z
      .record(z.string().regex(HOST_KEY, { error: HOST_KEY_MESSAGE }), hostVarsSchema.nullable())
      .nullable()
      .optional(),
    get children() {
      return z
        .record(z.string().regex(GROUP_NAME, { error: GROUP_NAME_MESSAGE }), groupSchema.nullable())
        .nullable()
        .optional();
    },
  })
  .meta({ id: 'Group' });

export const inventorySchema = z
  .strictObject({ all: groupSchema })
  .meta({ title: 'hermes-fleet inventory' });
