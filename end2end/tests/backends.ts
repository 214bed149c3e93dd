// Real HTTP backends on free ports for the browser tests: the gateway calls them as it
// would a team's services. Each returns the server (close it in `finally`) and its URL.
import http from 'http';
import { AddressInfo } from 'net';

/** A backend on a free port that answers with `handler`. */
export async function serve(handler: http.RequestListener): Promise<[http.Server, string]> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

/** A backend that answers every request with `text`. */
export function textBackend(text: string): Promise<[http.Server, string]> {
  return serve((_, response) => response.end(text));
}

/** A backend that answers with what it received: method, URL, headers and body, as JSON. */
export function echoBackend(): Promise<[http.Server, string]> {
  return serve((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      const body = Buffer.concat(chunks).toString();
      response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body }));
    });
  });
}

/** A backend that answers every request with `status` and no body. */
export function statusBackend(status: number): Promise<[http.Server, string]> {
  return serve((_, response) => {
    response.statusCode = status;
    response.end();
  });
}

/** A URL nothing listens on. */
export async function deadUrl(): Promise<string> {
  const [server, url] = await textBackend('');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}
