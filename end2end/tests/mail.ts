import { createHmac } from 'crypto';
import * as net from 'net';

/** A local SMTP server keeping every message Latchkey sends (LATCHKEY_SMTP_URL in the
 *  Playwright config points at it): the tests read reset and invitation links from it. */
export class MailSink {
  messages: string[] = [];
  private server?: net.Server;

  async start(port = 2526) {
    this.server = net.createServer((socket) => {
      let data: string | null = null;
      let buffer = '';
      socket.write('220 sink ESMTP\r\n');
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        let at: number;
        while ((at = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (data !== null) {
            if (line === '.') {
              this.messages.push(data);
              data = null;
              socket.write('250 kept\r\n');
            } else {
              data += (line.startsWith('.') ? line.slice(1) : line) + '\n';
            }
            continue;
          }
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') socket.write('250-sink\r\n250 8BITMIME\r\n');
          else if (verb === 'DATA') { data = ''; socket.write('354 go on\r\n'); }
          else if (verb === 'QUIT') { socket.end('221 bye\r\n'); }
          else socket.write('250 ok\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }

  async stop() {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Waits for a message to `to` and returns the first link in it to `path`. */
  async linkTo(to: string, path: string, timeout = 15_000): Promise<string> {
    const until = Date.now() + timeout;
    while (Date.now() < until) {
      for (const m of this.messages) {
        const plain = m.replace(/=\n/g, '').replace(/=3D/g, '=');
        if (!plain.split('\n').some((l) => /^to:/i.test(l) && l.includes(to))) continue;
        const at = plain.indexOf(path);
        if (at >= 0) return plain.slice(at).split(/\s/)[0];
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail to ${to} with ${path}: ${JSON.stringify(this.messages)}`);
  }
}

function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out: number[] = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

/** The authenticator app's code (RFC 6238: SHA-1, 6 digits, 30 s) `steps` steps from now. */
export function totp(secret: string, steps = 0): string {
  const counter = Math.floor(Date.now() / 1000 / 30) + steps;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}
