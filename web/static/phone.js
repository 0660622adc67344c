// goswitch web phone: SIP.js's SimpleUser over the page's own WSS origin. window.goswitchPhone
// is the same phone for scripts (the browser test drives it through it).
const $ = (id) => document.getElementById(id);
const status = (s) => { $("status").textContent = s; };

let Web;
try {
  ({ Web } = await import("/sipjs/index.js"));
} catch (e) {
  status("SIP.js is not installed on the server: run `npm ci` in goswitch's web/ directory.");
  throw e;
}

$("domain").value = location.hostname;
let user = null;
let incoming = false;
let analyser = null;
let audioCtx = null;

function startMeter() {
  const stream = user && user.remoteMediaStream;
  if (!stream || !stream.getAudioTracks().length) return;
  audioCtx = audioCtx || new AudioContext();
  audioCtx.resume();
  const src = audioCtx.createMediaStreamSource(stream);
  analyser = audioCtx.createAnalyser();
  analyser.fftSize = 4096;
  src.connect(analyser);
}

// level returns the RMS (0..1) of what the phone hears now.
function level() {
  if (!analyser) return 0;
  const buf = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const v of buf) sum += v * v;
  return Math.sqrt(sum / buf.length);
}

// peak returns the loudest frequency (Hz) in what the phone hears now, 0 when silent.
function peak() {
  if (!analyser || level() < 0.01) return 0;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return best * audioCtx.sampleRate / analyser.fftSize;
}

setInterval(() => { $("level").value = Math.min(1, level() * 4); }, 100);

async function register(name, password, domain) {
  if (user) await user.disconnect();
  const server = `wss://${location.host}`;
  user = new Web.SimpleUser(server, {
    aor: `sip:${name}@${domain}`,
    media: { constraints: { audio: true, video: false }, remote: { audio: $("remote") } },
    userAgentOptions: { authorizationUsername: name, authorizationPassword: password, displayName: name },
    delegate: {
      onCallReceived: () => { incoming = true; $("answer").hidden = false; status("incoming call"); },
      onCallAnswered: () => { incoming = false; $("answer").hidden = true; status("in call"); startMeter(); },
      onCallHangup: () => { incoming = false; $("answer").hidden = true; analyser = null; status("registered"); },
      onRegistered: () => status("registered"),
      onUnregistered: () => status("not registered"),
      onServerDisconnect: () => status("disconnected"),
    },
  });
  await user.connect();
  await user.register();
}

async function call(target) {
  const domain = $("domain").value;
  await user.call(target.includes("@") ? `sip:${target}` : `sip:${target}@${domain}`);
}

async function answer() { await user.answer(); }
async function hangup() { await user.hangup(); }
async function dtmf(d) { await user.sendDTMF(d); }

$("login").onsubmit = (e) => {
  e.preventDefault();
  register($("user").value, $("password").value, $("domain").value).catch((err) => status("register failed: " + err));
};
$("dialer").onsubmit = (e) => { e.preventDefault(); call($("target").value).catch((err) => status("call failed: " + err)); };
$("hangup").onclick = () => hangup().catch(() => {});
$("answer").onclick = () => answer().catch((err) => status("answer failed: " + err));
for (const k of "123456789*0#") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = k;
  b.onclick = () => dtmf(k).catch(() => {});
  $("keypad").appendChild(b);
}

window.goswitchPhone = {
  register, call, answer, hangup, dtmf, level, peak,
  status: () => $("status").textContent,
  ringing: () => incoming,
};
status("ready");
