import type { DevUser } from './types';

/**
 * The dev issuer's one stylesheet, inlined into every page it serves (no extra route, works offline).
 *
 * @example
 * ```ts
 * const html = `<style>${DEV_STYLESHEET}</style>`;
 * ```
 */
export const DEV_STYLESHEET = `
:root{color-scheme:light dark;--fg:#1f2330;--muted:#5c6378;--bg:#f4f5f8;--card:#fff;--line:#dde0e8;--accent:#3b5bdb;--warn:#8a5a00;--warn-bg:#fff4d6}
@media (prefers-color-scheme:dark){:root{--fg:#e7e9ef;--muted:#a3a9ba;--bg:#14161c;--card:#1d2029;--line:#2e3240;--accent:#7b93f5;--warn:#ffd27a;--warn-bg:#3a2f12}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:min(440px,92vw);background:var(--card);border:1px solid var(--line);border-radius:12px;padding:28px;box-shadow:0 8px 30px rgb(0 0 0/.08)}
h1{font-size:20px;margin:0 0 4px}
p{margin:8px 0;color:var(--muted)}
.banner{font-size:12px;font-weight:600;color:var(--warn);background:var(--warn-bg);border-radius:6px;padding:6px 10px;margin:0 0 16px}
ul.users{list-style:none;padding:0;margin:16px 0 0;display:grid;gap:8px}
button{font:inherit;cursor:pointer}
.user{width:100%;display:flex;justify-content:space-between;align-items:center;gap:12px;text-align:left;background:transparent;color:var(--fg);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.user:hover,.user:focus-visible{border-color:var(--accent);outline:none}
.user strong{display:block}
.user small{color:var(--muted)}
.tag{font-size:12px;border:1px solid var(--line);border-radius:999px;padding:1px 8px;color:var(--muted);white-space:nowrap}
input{font:inherit;width:100%;padding:8px 10px;border:1px solid var(--line);border-radius:8px;background:transparent;color:var(--fg);margin:8px 0}
button[type=submit]{background:var(--accent);color:#fff;border:0;border-radius:8px;padding:8px 16px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
`;

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>') // '&lt;b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * A complete dev issuer page: the stylesheet, the DEVELOPMENT ONLY banner, a title and a body
 * (`body` is HTML: escape what it interpolates).
 *
 * @example
 * ```ts
 * ctx.body = devPage('Signed in', '<p>You can close this page.</p>');
 * ```
 */
export function devPage(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · authplane dev</title><style>${DEV_STYLESHEET}</style></head><body><main><p class="banner">authplane dev issuer: DEVELOPMENT ONLY</p><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/**
 * The login page: every seeded user with email, org and roles, one button each. Choosing one is a GET
 * of the interaction URL with `?login=ID`, the same path a scripted user agent takes.
 *
 * @example
 * ```ts
 * res.end(loginPage(interaction.uid, users, 'authplane-cli'));
 * ```
 */
export function loginPage(uid: string, users: readonly DevUser[], clientId: string | undefined): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const items = users
    .map(
      (u) =>
        `<li><button class="user" type="submit" name="login" value="${escapeHtml(u.id)}" data-user="${escapeHtml(u.id)}"><span><strong>${escapeHtml(u.name)}</strong><small>${escapeHtml(u.email)}</small></span><span class="tag">${escapeHtml(u.orgId ?? 'no org')}${u.roles.length ? ` · ${escapeHtml(u.roles.join(', '))}` : ''}</span></button></li>`,
    )
    .join('');
  const who = clientId ? ` to <code>${escapeHtml(clientId)}</code>` : '';
  return devPage(
    'Sign in',
    `<p>Pick a user to sign in${who}. No password: this issuer is for development.</p><form method="get" action="${action}"><ul class="users">${items}</ul></form><p><small>Skip this page with <code>login_hint=ID</code> (<code>authplane login --login-hint bob</code>).</small></p>`,
  );
}
