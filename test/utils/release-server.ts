// A small HTTP server of release files for the tests of `hermes.release.url`: the hosts (or the
// local shell) download from it with their own curl or wget. Each path serves a file whole, or
// stops mid-file (the headers promise every byte, half of them are sent, then the connection
// is cut); any other path is a 404. It counts the requests per path, so a test can prove who
// downloaded what (check mode: nobody).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  bytes: Buffer;
  /** Send the headers for all of it, then half, then cut the connection. */
  cut?: boolean;
}

export interface ReleaseServer {
  /** `http://HOST:PORT` */
  base: string;
  url(path: string): string;
  /** Requests for `path` so far (the query left out). */
  requests(path: string): number;
  close(): Promise<void>;
}

export async function serveReleases(
  files: Record<string, ServedFile>,
  host = '127.0.0.1',
): Promise<ReleaseServer> {
  const counts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const file = files[path];
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(file.bytes.length),
    });
    if (!file.cut) {
      response.end(file.bytes);
      return;
    }
    response.write(file.bytes.subarray(0, Math.floor(file.bytes.length / 2)), () => {
      setTimeout(() => request.socket.destroy(), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://${host}:${port}`;
  return {
    base,
    url: (path) => `${base}${path}`,
    requests: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
