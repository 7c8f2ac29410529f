// Browser tests of the EODS pages: the real `eods serve` binary on a fresh SQLite database,
// Debian's Chromium driven by playwright-core (never a downloaded browser), axe-core scanning
// every page. Screenshots of every page go to e2e/artifacts/<run>/.
//
//   EODS_BIN=target/debug/eods node --test e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = process.env.EODS_BIN ?? join(root, 'target/debug/eods');
const shots = join(here, 'artifacts', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server, base, browser, db;
const tokens = {};

function token(role, name) {
  return execFileSync(bin, ['token', 'create', '--role', role, '--name', name, '--database', db], { encoding: 'utf8' }).trim();
}

async function api(who, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function until(what, check, seconds = 120) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs axe-core on the page; fails on any serious or critical violation. */
async function accessible(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), [], `${name} has serious accessibility violations`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function signIn(who) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + '/');
  assert.equal(new URL(page.url()).pathname, '/ui/login');
  await page.getByLabel('API token').fill(tokens[who]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(base + '/ui');
  return { context, page };
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eods-e2e-'));
  db = `sqlite://${join(dir, 'eods.db')}`;
  tokens.alice = token('planner', 'alice');
  tokens.bob = token('approver', 'bob');
  tokens.vera = token('viewer', 'vera');
  server = spawn(bin, ['serve', '--bind', '127.0.0.1:0', '--database', db, '--log-format', 'text'], { stdio: ['ignore', 'ignore', 'pipe'] });
  base = await new Promise((resolve, reject) => {
    let err = '';
    server.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`eods serve exited ${code}: ${err}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test('an approver signs in, approves the three gates with confirmation, and the event reaches its postmortem', async () => {
  const brief = JSON.parse(readFileSync(join(root, 'examples/s02-conference.json'), 'utf8'));
  const created = await api('alice', 'POST', '/api/v1/events', { brief });
  assert.equal(created.status, 201);
  const id = created.body.id;
  await until('the event to wait at Confirm', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${id}`);
    return e.body.state === 'confirm' && e.body.run_status === 'awaiting_approval';
  });

  const login = await (await browser.newContext()).newPage();
  await login.goto(base + '/ui/login');
  await accessible(login, 'sign-in');
  await shot(login, 'sign-in');
  await login.getByLabel('API token').fill('eods_000000000000_wrong');
  await login.getByRole('button', { name: 'Sign in' }).click();
  assert.match(await login.locator('#token-error').innerText(), /not valid/);
  await accessible(login, 'sign-in with an error');
  await shot(login, 'sign-in-error');

  const { page } = await signIn('bob');
  await assert.doesNotReject(page.getByRole('cell', { name: /CloudData Summit Amsterdam 2027/ }).waitFor());
  await accessible(page, 'dashboard');
  await shot(page, 'dashboard');

  await page.getByRole('link', { name: /Approvals/ }).click();
  await page.waitForURL(base + '/ui/approvals');
  await accessible(page, 'approvals inbox');
  await shot(page, 'approvals');
  for (let i = 0; i < 3; i++) {
    const card = page.locator('section.card').first();
    const gate = (await card.locator('h2').innerText()).split(' · ')[0];
    await card.getByLabel('Comment').fill('approved in the browser');
    await card.getByRole('button', { name: 'Review decision' }).click();
    await page.getByRole('heading', { name: 'Confirm your decision' }).waitFor();
    if (i === 0) {
      await accessible(page, 'confirmation');
      await shot(page, 'confirm');
    }
    await page.getByRole('button', { name: /^Confirm: approve/ }).click();
    await page.waitForURL(/\/ui\/approvals\?decided=/);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`decision on ${gate} was recorded`));
  }
  await assert.doesNotReject(page.getByText('Nothing waits for a decision.').waitFor());
  await shot(page, 'approvals-done');

  await until('the postmortem', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${id}`);
    return e.body.run_status === 'completed' && e.body.state === 'postmortem';
  });
  const log = await api('vera', 'GET', `/api/v1/events/${id}/decision-log`);
  const approvals = log.body.items.filter((d) => d.decision_type === 'approval');
  assert.equal(approvals.length, 3);
  assert.ok(approvals.every((d) => d.owner === 'user:bob' && d.rationale === 'approved in the browser'));
  await page.goto(base + '/ui');
  assert.match(await page.locator('td.status').first().innerText(), /completed/);
  await shot(page, 'dashboard-completed');
});

test('a viewer sees the inbox but no decision buttons', async () => {
  const brief = JSON.parse(readFileSync(join(root, 'examples/s01-meetup.json'), 'utf8'));
  const created = await api('alice', 'POST', '/api/v1/events', { brief });
  await until('approvals to wait', async () => {
    const e = await api('vera', 'GET', `/api/v1/events/${created.body.id}`);
    return e.body.run_status === 'awaiting_approval';
  });
  const { page } = await signIn('vera');
  await page.getByRole('link', { name: /Approvals/ }).click();
  await page.waitForURL(base + '/ui/approvals');
  assert.ok((await page.locator('section.card').count()) >= 3);
  assert.equal(await page.getByRole('button', { name: 'Review decision' }).count(), 0);
  assert.equal(await page.getByRole('radio').count(), 0);
  await accessible(page, 'viewer inbox');
  await shot(page, 'viewer-approvals');
});
