import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Answer {
  status: number
  body?: string
  /** Milliseconds to wait before answering. */
  delay?: number
}

/** A loopback HTTP server that records every request and answers as told. */
export async function startRecordingServer() {
  const requests: ReceivedRequest[] = []
  let answer: Answer = { status: 200, body: 'ok' }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      const { status, body = '', delay = 0 } = answer
      const timer = setTimeout(() => {
        response.writeHead(status, { 'content-type': 'text/plain' })
        response.end(body)
      }, delay)
      response.on('close', () => clearTimeout(timer))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    requests,
    /** The JSON body of the last request. */
    lastJson: (): unknown => JSON.parse(requests.at(-1)?.body ?? 'null'),
    answer(next: Answer) {
      answer = next
    },
    reset() {
      requests.length = 0
      answer = { status: 200, body: 'ok' }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
