// Drives goswitch's event socket with modesl (npm), a third-party FreeSWITCH ESL library.
// Usage: node modesl_client.js <host> <port> <password>; prints one JSON object.
const esl = require('modesl');
const [host, port, pass] = process.argv.slice(2);
const out = {};
const done = (err) => {
  if (err) out.error = String(err);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(err ? 1 : 0);
};
setTimeout(() => done('timeout'), 10000);
const conn = new esl.Connection(host, parseInt(port, 10), pass, () => {
  conn.api('esltest_echo', 'from modesl', (res) => {
    out.api = res.getBody();
    conn.bgapi('esltest_echo', 'bg job', (evt) => {
      out.bgapi = evt.getBody();
      out.jobCommand = evt.getHeader('Job-Command');
      conn.events('json', 'CUSTOM modesl::test', () => {
        conn.on('esl::event::CUSTOM::*', (e) => {
          if (e.getHeader('Event-Subclass') !== 'modesl::test') return;
          out.custom = e.getHeader('X-Test');
          out.body = e.getBody();
          conn.api('show', 'channels as json', (r) => {
            out.rowCount = JSON.parse(r.getBody()).row_count;
            done();
          });
        });
        const ev = new esl.Event('CUSTOM', 'modesl::test');
        ev.addHeader('X-Test', 'hello world: 100%');
        ev.addBody('a body');
        conn.sendEvent(ev);
      });
    });
  });
});
conn.on('error', (e) => done(e));
