// Drives goswitch's web phone in Debian's chromium (playwright-core, no downloaded browser) for
// the Go browser test: one JSON command per stdin line, one JSON answer per stdout line.
//   {"op":"open","url":"https://127.0.0.1:7443/"}          load the page (self-signed cert accepted)
//   {"op":"eval","js":"goswitchPhone.register('1000','1234','127.0.0.1')"}   await an expression
// The fake microphone plays $TONE_WAV (a sox tone) in a loop; playwright gives chromium a fresh
// profile directory of its own.
import { chromium } from "playwright-core";
import readline from "node:readline";

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${process.env.TONE_WAV}`,
    "--autoplay-policy=no-user-gesture-required", "--ignore-certificate-errors",
  ],
});
const ctx = await browser.newContext({ ignoreHTTPSErrors: true, permissions: ["microphone"] });
const page = await ctx.newPage();
const logs = [];
page.on("console", (m) => logs.push(m.text()));
page.on("pageerror", (e) => logs.push("pageerror: " + e.message));

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  let cmd;
  try { cmd = JSON.parse(line); } catch { continue; }
  try {
    if (cmd.op === "open") {
      await page.goto(cmd.url);
      await page.waitForFunction(() => window.goswitchPhone !== undefined, null, { timeout: 10000 });
      out({ ok: true });
    } else if (cmd.op === "eval") {
      const v = await page.evaluate(cmd.js);
      out({ ok: true, value: v === undefined ? null : v });
    } else if (cmd.op === "logs") {
      out({ ok: true, value: logs.join("\n") });
    } else if (cmd.op === "quit") {
      break;
    }
  } catch (e) {
    out({ ok: false, error: String(e), logs: logs.slice(-20).join("\n") });
  }
}
await browser.close();
