/**
 * The dashboard's static files: `GET /dashboard` (the page), `/dashboard/app.js`, `/dashboard/style.css`
 * and the rest of `public/`, read once at start and served from memory with their content type, an
 * ETag and a strict Content-Security-Policy (same-origin scripts, styles and fetches only). `GET /`
 * redirects to the page.
 */
import { Controller, Get, Header, Param, Redirect, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { ApiError } from '../http/errors';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file of `dir` (not recursive) whose extension has a known type, by name. */
export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name, { body, type, etag });
  }
  return files;
}

export const DASHBOARD_PUBLIC_DIR = join(__dirname, 'public');

@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly files = loadStaticFiles(DASHBOARD_PUBLIC_DIR);

  @Get()
  @Redirect('/dashboard', 302)
  root(): void {}

  /** `/dashboard` and `/dashboard/` (routing is not strict about the trailing slash). */
  @Get('dashboard')
  @Header('cache-control', 'no-cache')
  page(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    this.serve('index.html', req, res);
  }

  @Get('dashboard/:file')
  @Header('cache-control', 'no-cache')
  asset(@Param('file') file: string, @Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    this.serve(file, req, res);
  }

  private serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    const f = this.files.get(name);
    if (!f)
      throw new ApiError(404, `No dashboard file "${name}"`, {
        code: 'NOT_FOUND',
        hint: 'Open /dashboard for the page.',
      });
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('etag', f.etag);
    if (req.headers['if-none-match'] === f.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('content-type', f.type);
    res.setHeader('content-length', f.body.length);
    res.end(f.body);
  }
}
