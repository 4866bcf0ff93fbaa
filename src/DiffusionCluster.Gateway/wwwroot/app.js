// The page drives the job API: submit, follow progress over server-sent events, show the image and a
// timeline of per-stage latency (queue wait hatched, compute coloured), and keep a gallery of this session;
// and the image operations on an upload or the generated image.
// The API key, when the gateway needs one, is kept in this browser (localStorage) and sent as a bearer token;
// images load from their signed links, which need no key.
const $ = id => document.getElementById(id);
const gallery = JSON.parse(sessionStorage.getItem("gallery") || "[]");
let current = null;
$("key").value = localStorage.getItem("apiKey") || "";
$("key").addEventListener("change", () => { localStorage.setItem("apiKey", $("key").value); showVocabulary(); });

function headers(extra = {}) {
  const key = $("key").value.trim();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

// Server-sent events read with fetch (EventSource cannot send a key): calls on(event, data) per event.
async function follow(url, on) {
  const response = await fetch(url, { headers: headers() });
  if (!response.ok) { on("error", JSON.stringify({ error: (await response.json()).error.message })); return; }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name && data) on(name, data);
    }
  }
}

function showGallery() {
  $("gallery").innerHTML = "";
  for (const item of gallery) {
    const figure = document.createElement("figure");
    figure.innerHTML = `<img alt=""><figcaption></figcaption>`;
    figure.querySelector("img").src = item.url;
    figure.querySelector("figcaption").textContent = `${item.prompt} (${item.size}, seed ${item.seed})`;
    $("gallery").appendChild(figure);
  }
}

function showStages(status) {
  const section = $("progress");
  for (const stage of status.stages) {
    let row = section.querySelector(`[data-stage="${stage}"]`);
    if (!row) {
      row = document.createElement("div");
      row.className = "stage";
      row.dataset.stage = stage;
      row.innerHTML = `<span>${stage}</span><progress max="1" value="0"></progress><span class="steps">waiting</span>`;
      section.appendChild(row);
    }
    const order = status.stages.indexOf(stage), at = status.stages.indexOf(status.stage);
    const bar = row.querySelector("progress"), steps = row.querySelector(".steps");
    if (status.state === "completed" || (at >= 0 && order < at)) { bar.value = 1; steps.textContent = "done"; }
    else if (order === at) {
      bar.value = status.total_steps ? status.step / status.total_steps : 0;
      steps.textContent = status.total_steps ? `step ${status.step}/${status.total_steps}` : "running";
    }
    else if (order === 0 && status.start_after) {
      steps.textContent = `queued; starts in about ${Math.max(0, Math.round(status.start_after - Date.now() / 1000))} s`;
    }
  }
  // The running stage's latest estimate of the image (the job asks for previews).
  if (status.preview_b64_json) {
    $("preview").src = `data:image/png;base64,${status.preview_b64_json}`;
    $("preview").hidden = false;
  }
}

function showTimeline(timings) {
  const total = timings.reduce((sum, t) => sum + t.queue_ms + t.compute_ms, 0);
  const timeline = $("timeline");
  timeline.innerHTML = "";
  for (const t of timings) {
    for (const [kind, ms] of [["queue", t.queue_ms], [t.stage, t.compute_ms]]) {
      const segment = document.createElement("div");
      segment.className = `segment ${kind}`;
      segment.dataset.stage = t.stage;
      segment.style.width = `${(100 * ms / total).toFixed(2)}%`;
      segment.title = `${t.stage} ${kind === "queue" ? "queue" : "compute"} ${ms.toFixed(0)} ms on ${t.silo}`;
      if (kind !== "queue") segment.textContent = t.stage;
      timeline.appendChild(segment);
    }
  }
  $("timeline-legend").textContent = timings.map(t => `${t.stage} ${t.compute_ms.toFixed(0)} ms (+${t.queue_ms.toFixed(0)} ms queued)`).join(" · ");
}

// The request body: prompt, size and seed, and only the stage options the user set (empty: the model's defaults).
function requestBody(seed) {
  const body = { prompt: $("prompt").value, size: $("size").value, seed, previews: true };
  for (const stage of ["prior", "decoder64", "sr256", "sr1024"])
    for (const option of ["steps", "guidance"])
      if ($(`${stage}-${option}`).value !== "") body[`${stage}_${option}`] = Number($(`${stage}-${option}`).value);
  if ($("decoder64-layout").value !== "") body.decoder64_layout = Number($("decoder64-layout").value);
  return body;
}

// n images are n jobs with consecutive seeds, run one after another; each joins the gallery.
async function submit(event) {
  event.preventDefault();
  const n = Number($("n").value), first = Number($("seed").value);
  $("submit").disabled = true;
  for (let i = 0; i < n; i++) {
    const ok = await runJob(requestBody(first + i), n > 1 ? `image ${i + 1} of ${n}: ` : "");
    if (!ok) break;
  }
  finish();
}

// One job: submit, follow its progress, show its image. True when it completed.
async function runJob(body, label) {
  $("message").textContent = `${label}running`;
  $("message").className = "";
  $("progress").innerHTML = "";
  $("preview").hidden = true;
  $("result").hidden = true;
  const response = await fetch("/v1/jobs", { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) });
  const status = await response.json();
  if (!response.ok) { fail(status.error.message); return false; }
  current = status.id;
  $("cancel").disabled = false;
  showStages(status);
  let completed = false;
  await follow(`/v1/jobs/${status.id}/events`, (name, data) => {
    if (name === "progress") showStages(JSON.parse(data));
    else if (name === "done") { completed = true; done(JSON.parse(data), body, label); }
    else if (name === "error") fail(JSON.parse(data).error || "failed");
  }).catch(error => fail(`lost the job's progress: ${error.message}`));
  if (!completed) $("preview").hidden = true;
  current = null;
  $("cancel").disabled = true;
  return completed;
}

function done(status, body, label) {
  showStages(status);
  $("preview").hidden = true;
  $("image").src = status.image_url;
  $("download").href = status.image_url;
  $("download").download = `${body.prompt.slice(0, 60).replace(/[^a-z0-9]+/gi, "-")}-seed${body.seed}.png`;
  $("result").hidden = false;
  showTimeline(status.timings);
  $("revised").textContent = status.revised_prompt ? `drawn from: ${status.revised_prompt}` : "";
  $("message").textContent = `${label}done`;
  gallery.unshift({ url: status.image_url, prompt: body.prompt, size: body.size, seed: body.seed });
  sessionStorage.setItem("gallery", JSON.stringify(gallery.slice(0, 24)));
  showGallery();
}

// The words the model's prompt reader knows, by role (its filler words left out), folded under the prompt box.
async function showVocabulary() {
  const response = await fetch("/v1/vocabulary", { headers: headers() }).catch(() => null);
  if (!response?.ok) return;
  const vocabulary = await response.json();
  $("vocabulary").textContent = Object.entries(vocabulary.words).filter(([role]) => role !== "other")
    .map(([role, words]) => `${role.replaceAll("_", " ")}: ${words.join(", ")}`).join("; ") + `; up to ${vocabulary.max_objects} objects.`;
  $("vocabulary-box").hidden = false;
}

function fail(message) {
  $("message").textContent = message;
  $("message").className = "error";
}

function finish() {
  current = null;
  $("submit").disabled = false;
  $("cancel").disabled = true;
}

// Image operations: the upload and the fields the chosen operation reads, sent as OpenAI-style multipart to
// /v1/images/variations, /v1/images/segmentations or /v1/images/edits; results come back inline (b64_json).
function showEditFields() {
  const operation = $("edit-operation").value;
  for (const label of document.querySelectorAll("#edit [data-for]")) label.hidden = !label.dataset.for.split(" ").includes(operation);
}

async function runEdit(event) {
  event.preventDefault();
  const operation = $("edit-operation").value;
  const form = new FormData();
  form.append("image", $("edit-image").files[0]);
  for (const label of document.querySelectorAll("#edit [data-for]")) {
    if (label.hidden) continue;
    const input = label.querySelector("input");
    if (!input) continue;
    if (input.type === "file") { if (input.files[0]) form.append(input.name, input.files[0]); }
    else if (input.value !== "") form.append(input.name, input.value);
  }
  if (operation === "inpaint" && painted) form.append("mask", await maskFile());
  form.append("seed", $("edit-seed").value);
  form.append("size", "64x64");
  form.append("response_format", "b64_json");
  if (operation === "variation") form.append("n", "2");
  else if (operation !== "segment") form.append("operation", operation);
  const path = operation === "variation" ? "variations" : operation === "segment" ? "segmentations" : "edits";
  $("edit-message").textContent = "running";
  $("edit-message").className = "";
  $("edit-submit").disabled = true;
  try {
    const response = await fetch(`/v1/images/${path}`, { method: "POST", headers: headers(), body: form });
    const body = await response.json();
    if (!response.ok) { $("edit-message").textContent = body.error.message; $("edit-message").className = "error"; return; }
    $("edit-result").innerHTML = "";
    for (const item of body.data) {
      const img = document.createElement("img");
      img.src = `data:image/png;base64,${item.b64_json}`;
      img.alt = `${operation} result`;
      $("edit-result").appendChild(img);
    }
    $("edit-message").textContent = ["done", ...(body.notes || [])].join("; ");
  } catch (error) {
    $("edit-message").textContent = `the request failed: ${error.message}`;
    $("edit-message").className = "error";
  } finally {
    $("edit-submit").disabled = false;
  }
}

// The generated image becomes the edit form's upload.
async function useImage() {
  const blob = await (await fetch($("image").src)).blob();
  const files = new DataTransfer();
  files.items.add(new File([blob], "generated.png", { type: blob.type || "image/png" }));
  $("edit-image").files = files.files;
  await showUpload();
  $("edit-message").textContent = "the generated image is loaded; choose an operation";
  $("edit-message").className = "";
}

// Inpainting's mask, painted over the upload: the strokes are kept on their own canvas (opaque where painted) and
// drawn over the image in red; the mask sent is the image's size, transparent where painted (OpenAI's convention).
const strokes = document.createElement("canvas");
strokes.width = strokes.height = 256;
let upload = null, painted = false;

async function showUpload() {
  const file = $("edit-image").files[0];
  upload = file ? await createImageBitmap(file) : null;
  clearMask();
}

function clearMask() {
  strokes.getContext("2d").clearRect(0, 0, 256, 256);
  painted = false;
  drawMask();
}

function drawMask() {
  const context = $("mask-canvas").getContext("2d");
  context.imageSmoothingEnabled = false;
  context.clearRect(0, 0, 256, 256);
  if (upload) context.drawImage(upload, 0, 0, 256, 256);
  context.globalAlpha = 0.5;
  context.drawImage(strokes, 0, 0);
  context.globalAlpha = 1;
}

function paint(event) {
  if (!(event.buttons & 1) || !upload) return;
  const box = $("mask-canvas").getBoundingClientRect();
  const context = strokes.getContext("2d");
  context.fillStyle = "#ff0000";
  context.beginPath();
  context.arc((event.clientX - box.left) * 256 / box.width, (event.clientY - box.top) * 256 / box.height, 14, 0, 2 * Math.PI);
  context.fill();
  painted = true;
  drawMask();
}

async function maskFile() {
  const mask = document.createElement("canvas");
  mask.width = upload.width;
  mask.height = upload.height;
  const context = mask.getContext("2d");
  context.fillStyle = "#000000";
  context.fillRect(0, 0, mask.width, mask.height);
  context.globalCompositeOperation = "destination-out";
  context.drawImage(strokes, 0, 0, mask.width, mask.height);
  const blob = await new Promise(resolve => mask.toBlob(resolve, "image/png"));
  return new File([blob], "mask.png", { type: "image/png" });
}

$("generate").addEventListener("submit", submit);
showVocabulary();
$("random-seed").addEventListener("click", () => { $("seed").value = crypto.getRandomValues(new Uint32Array(1))[0]; });
$("edit").addEventListener("submit", runEdit);
$("edit-operation").addEventListener("change", showEditFields);
$("use-image").addEventListener("click", useImage);
$("edit-image").addEventListener("change", showUpload);
$("mask-canvas").addEventListener("pointerdown", paint);
$("mask-canvas").addEventListener("pointermove", paint);
$("mask-clear").addEventListener("click", clearMask);
showEditFields();
$("cancel").addEventListener("click", () => current && fetch(`/v1/jobs/${current}`, { method: "DELETE", headers: headers() }));
showGallery();
