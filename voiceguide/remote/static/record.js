// The Record page: records one line in the browser as a 16-bit PCM WAV (so the device needs no webm/opus
// decoder), plays it back here, and sends it to the device only when the person keeps it.
"use strict";
(function () {
  const card = document.getElementById("record");
  const start = document.getElementById("rec-start");
  if (!card || !start) return;
  const $ = (id) => document.getElementById(id);
  const stopButton = $("rec-stop"), play = $("rec-play"), keep = $("rec-keep"), anyway = $("rec-anyway"),
    redo = $("rec-redo"), status = $("rec-status");
  const maxSeconds = Number(card.dataset.maxSeconds) || 120;
  let stream = null, context = null, node = null, source = null, chunks = [], rate = 48000, wav = null,
    timer = null, samples = null;

  function say(text, problem) {
    status.textContent = text;
    status.classList.toggle("problem", !!problem);
  }
  function show(...visible) {
    for (const b of [start, stopButton, play, keep, anyway, redo]) b.hidden = !visible.includes(b);
  }

  async function record() {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      say("The browser allows the microphone only on the remote's https:// address.", true);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: {
        echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
    } catch (e) {
      say("The microphone could not be opened (" + e.name + "): allow it for this page and try again.", true);
      return;
    }
    if (!context) {  // one for the page: browsers allow only a few at a time
      try { context = new AudioContext({ sampleRate: 48000 }); } catch (e) { context = new AudioContext(); }
    }
    await context.resume();
    rate = context.sampleRate;
    source = context.createMediaStreamSource(stream);
    node = context.createScriptProcessor(4096, 1, 1);
    chunks = [];
    let heard = 0;
    card.dataset.seconds = "0";
    node.onaudioprocess = (event) => {
      const block = new Float32Array(event.inputBuffer.getChannelData(0));
      chunks.push(block);
      heard += block.length;
      card.dataset.seconds = (heard / rate).toFixed(1);  // how much is recorded (the tests wait on it too)
      say(`Recording… ${card.dataset.seconds} s. Read the line, then tap Stop.`);
    };
    source.connect(node);
    node.connect(context.destination);  // the node runs only when connected; it writes silence out
    timer = setTimeout(stop, maxSeconds * 1000);
    say("Recording… read the line, then tap Stop.");
    show(stopButton);
  }

  function stop() {
    clearTimeout(timer);
    if (node) { node.disconnect(); source.disconnect(); node.onaudioprocess = null; }
    if (stream) for (const track of stream.getTracks()) track.stop();
    const length = chunks.reduce((n, c) => n + c.length, 0);
    samples = new Float32Array(length);
    let at = 0;
    for (const c of chunks) { samples.set(c, at); at += c.length; }
    chunks = [];
    wav = encode(samples, rate);
    say(`Recorded ${(length / rate).toFixed(1)} s. Listen, then keep it or redo it.`);
    show(play, keep, redo);
  }

  function encode(data, sampleRate) {
    const buffer = new ArrayBuffer(44 + data.length * 2), view = new DataView(buffer);
    const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
    text(0, "RIFF"); view.setUint32(4, 36 + data.length * 2, true); text(8, "WAVE");
    text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * 2, true);
    view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    text(36, "data"); view.setUint32(40, data.length * 2, true);
    for (let i = 0; i < data.length; i++) {
      const v = Math.max(-1, Math.min(1, data[i]));
      view.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
    }
    return new Blob([buffer], { type: "audio/wav" });
  }

  function playBack() {
    if (!samples || !samples.length) return;
    const buffer = context.createBuffer(1, samples.length, rate);
    buffer.copyToChannel(samples, 0);
    const player = context.createBufferSource();
    player.buffer = buffer;
    player.connect(context.destination);
    player.start();
  }

  async function send(keepAnyway) {
    show();
    say("Sending the take to the device…");
    const query = new URLSearchParams({ session: card.dataset.session, pack: card.dataset.pack,
      key: card.dataset.key, anyway: keepAnyway ? "1" : "0" });
    let reply;
    try {
      const r = await fetch("/record/take?" + query, { method: "POST", body: wav, credentials: "same-origin",
        headers: { "Content-Type": "audio/wav", "X-CSRF-Token": card.dataset.csrf } });
      reply = r.headers.get("content-type")?.includes("json") ? await r.json()
        : { kept: false, redo: false, message: await r.text() };
    } catch (e) {
      say("The device could not be reached; the take is still here: try Keep again.", true);
      show(play, keep, redo);
      return;
    }
    if (reply.kept) {
      const next = new URLSearchParams({ session: card.dataset.session, pack: card.dataset.pack,
        said: reply.message });
      window.location.assign("/record?" + next);
      return;
    }
    say(reply.message, true);
    show(...(reply.anyway ? [play, anyway, redo] : reply.redo ? [redo] : [play, keep, redo]));
  }

  start.addEventListener("click", record);
  stopButton.addEventListener("click", stop);
  play.addEventListener("click", playBack);
  keep.addEventListener("click", () => send(false));
  anyway.addEventListener("click", () => send(true));
  redo.addEventListener("click", () => { samples = null; wav = null; say("Tap Record when you are ready."); show(start); });
})();
