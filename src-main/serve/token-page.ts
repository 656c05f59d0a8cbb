import { createHash } from 'node:crypto';

/**
 * What a browser shows without a valid token: most often a tab left open while `npm run serve`
 * was restarted, which made a new token. A page saying so beats a bare "401".
 */

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25rem}';

// A hash, not 'unsafe-inline': the page runs nothing and loads nothing.
export const TOKEN_PAGE_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export type TokenProblem = 'missing' | 'stale';

export function tokenPage(problem: TokenProblem): string {
  const why =
    problem === 'stale'
      ? '<p data-reason="stale">The token in this link is no longer valid: the MNIST Studio server was restarted (each start makes a new token) or the link was mistyped.</p>'
      : '<p data-reason="missing">This address needs the token that <code>npm run serve</code> puts in the link it prints.</p>';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>MNIST Studio: open the link the server printed</title><style>${STYLE}</style></head>
<body>
<h1>Open the link the server printed</h1>
${why}
<p>Open the URL that <code>npm run serve</code> printed in its terminal when it started (it ends in <code>?token=…</code>).</p>
</body>
</html>
`;
}
