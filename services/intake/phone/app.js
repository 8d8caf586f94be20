// The phone page: SMS link -> code -> case and consent -> evidence -> submitted.
// A settlement link (fragment "v=settlement") leads from the code to the
// settlement view of settlement.js instead.
// Files go to storage in parts over presigned URLs. Upload ids stay in
// localStorage, so after a reload the page requests from intake the parts already in storage
// and sends only the others once the same file is picked again.
"use strict";

const STORE_KEY = "dingze.phone";
// Case states in which intake takes evidence from the phone.
const UPLOADABLE = ["draft", "resubmission_requested"];
const RETRY_MAX_SECONDS = 20;
const MESSAGES = {
  network: "网络连接中断，恢复后将自动继续上传，请不要关闭页面。",
  storage: "上传到存储失败，正在重试……",
  unknown: "系统繁忙，请稍后重试。",
  pickAgain: "上次的视频上传未完成（已上传 {percent}%）。请重新选择同一个视频，将从中断处继续上传。",
  chooseVideo: "请先录制或选择现场视频。",
  uploading: "正在上传",
  waiting: "等待上传",
  checking: "上传完成，正在检查文件……",
  done: "已上传",
  submitted: "案件已提交，您可以离开现场。",
};

const $ = (id) => document.getElementById(id);
let state = loadState();
let caseView = null;
const files = new Map(); // row id -> {file, kind, row}

function loadState() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY)) || {};
  } catch (error) {
    return {};
  }
}

function saveState() {
  localStorage.setItem(STORE_KEY, JSON.stringify(state));
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

function showNotice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

function showStep(name) {
  for (const step of ["code", "case", "evidence", "done", "settlement", "settled"]) {
    $("step-" + step).hidden = step !== name;
  }
  $("sign-out").hidden = !state.session;
}

// Signs the session out at intake, so the token is of no use to anyone who
// copies it from this phone, and returns to the code step of the same link.
async function signOut() {
  if (state.session) await api("POST", "/access/sign-out").catch(() => null);
  state.session = null;
  saveState();
  showError("");
  showNotice("已退出登录。如需继续，请重新获取验证码。");
  showStep("code");
}

class ApiError extends Error {
  constructor(status, detail) {
    super((detail && detail.message) || "HTTP " + status);
    this.status = status;
    this.code = (detail && detail.code) || "";
    this.messageZh = (detail && detail.message_zh) || MESSAGES.unknown;
    // Field by field, for forms that intake checks as a whole.
    this.problems = (detail && detail.problems) || null;
  }
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (state.session) headers.authorization = "Bearer " + state.session.token;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, { code: "network", message_zh: MESSAGES.network });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail) ? null : data.detail;
    const ended = ["session_expired", "session_invalid", "session_signed_out"];
    if (ended.includes(detail && detail.code)) {
      state.session = null;
      saveState();
    }
    throw new ApiError(response.status, detail);
  }
  return data;
}

// ---- Sign-in with the SMS link and a one-time code ----

async function sendCode() {
  showError("");
  try {
    const sent = await api("POST", "/access/code", { link_token: state.link });
    $("code-sent").textContent = `验证码已发送至 ${sent.phone_masked}，${Math.round(
      sent.expires_in_seconds / 60)} 分钟内有效。`;
    $("code-sent").hidden = false;
    $("code").focus();
  } catch (error) {
    showError(error.messageZh);
  }
}

async function confirmCode() {
  showError("");
  const code = $("code").value.trim();
  if (!/^[0-9]{6}$/.test(code)) {
    showError("请输入短信中的 6 位数字验证码。");
    return;
  }
  try {
    const session = await api("POST", "/access/session", {
      link_token: state.link,
      code,
    });
    state.session = {
      token: session.session_token,
      caseId: session.case_id,
      partyId: session.party_id,
      expiresAt: session.expires_at,
    };
    saveState();
    await openView();
  } catch (error) {
    showError(error.messageZh);
  }
}

function openView() {
  return state.view === "settlement" ? openSettlement() : openCase();
}

// ---- Case details and consent ----

async function openCase() {
  try {
    caseView = await api("GET", "/party/case");
  } catch (error) {
    showError(error.messageZh);
    if (!state.session) showStep("code");
    return;
  }
  renderCase();
  if (!UPLOADABLE.includes(caseView.status)) {
    finish(caseView.status);
    return;
  }
  showStep("case");
  $("consent-box").hidden = caseView.consented;
  if (caseView.consented) startEvidence();
}

function renderCase() {
  const details = $("case-details");
  details.replaceChildren();
  const when = new Date(caseView.accident_at).toLocaleString("zh-CN");
  for (const [term, value] of [
    ["案件号", caseView.case_id.slice(0, 8)],
    ["时间", when],
    ["地点", caseView.location.address],
    ["经过", caseView.description || "—"],
  ]) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    details.append(dt, dd);
  }
  const parties = $("case-parties");
  parties.replaceChildren();
  for (const party of caseView.parties) {
    const item = document.createElement("li");
    const you = party.party_id === caseView.party_id ? "（您）" : "";
    item.textContent = `${party.party_id} 方：${party.name} ${party.plate}${you}`;
    parties.append(item);
  }
}

async function giveConsent() {
  showError("");
  if (!$("consent").checked) {
    showError("请先勾选同意远程处理。");
    return;
  }
  try {
    await api("POST", "/party/consent");
    caseView.consented = true;
    $("consent-box").hidden = true;
    startEvidence();
  } catch (error) {
    showError(error.messageZh);
  }
}

// ---- Evidence: one video and some photos, each uploaded in parts ----

function startEvidence() {
  $("step-evidence").hidden = false;
  if (caseView.redo_zh) {
    const by = caseView.redo_by
      ? `（请在 ${new Date(caseView.redo_by).toLocaleString("zh-CN")} 前重新上传）`
      : "";
    $("redo").textContent = `上次的视频未通过核验：${caseView.redo_zh}${by}`;
    $("redo").hidden = false;
  }
  const pending = state.uploads && state.uploads.video;
  if (pending && !pending.done && !files.has("video")) {
    $("resume-hint").textContent = MESSAGES.pickAgain.replace(
      "{percent}", String(pending.percent || 0));
    $("resume-hint").hidden = false;
  }
  updateSubmit();
}

function fingerprint(file) {
  return `${file.name}|${file.size}|${file.type}`;
}

function addRow(file, kind) {
  const row = document.createElement("li");
  row.dataset.kind = kind;
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = (kind === "video" ? "视频：" : "照片：") + file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const status = document.createElement("div");
  status.className = "state";
  status.textContent = MESSAGES.waiting;
  row.append(name, bar, status);
  $("files").append(row);
  return row;
}

function setRow(row, percent, text, className) {
  row.querySelector("progress").value = percent;
  row.querySelector(".state").textContent = text;
  row.className = className || "";
}

function contentTypeOf(file, kind) {
  if (file.type) return file.type;
  const lower = file.name.toLowerCase();
  if (kind === "video") {
    if (lower.endsWith(".mov")) return "video/quicktime";
    if (lower.endsWith(".webm")) return "video/webm";
    return "video/mp4";
  }
  if (lower.endsWith(".png")) return "image/png";
  if (lower.endsWith(".heic")) return "image/heic";
  return "image/jpeg";
}

async function pickVideo(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  showError("");
  for (const row of $("files").querySelectorAll('li[data-kind="video"]')) {
    row.remove();
  }
  const row = addRow(file, "video");
  state.uploads = state.uploads || {};
  const pending = state.uploads.video;
  if (pending && pending.fingerprint !== fingerprint(file)) {
    // Another file than the interrupted one: drop the old upload first.
    await api("DELETE", `/cases/${state.session.caseId}/uploads/${pending.id}`)
      .catch(() => null);
    state.uploads.video = null;
    saveState();
  }
  $("resume-hint").hidden = true;
  await runUpload(file, "video", row, "video");
}

async function pickPhotos(event) {
  const picked = Array.from(event.target.files);
  event.target.value = "";
  showError("");
  for (const file of picked) {
    const row = addRow(file, "photo");
    await runUpload(file, "photo", row, "photo-" + fingerprint(file));
  }
}

async function runUpload(file, kind, row, slot) {
  files.set(slot, { file, kind, row, done: false });
  updateSubmit();
  try {
    await uploadFile(file, kind, row, slot);
    files.get(slot).done = true;
    setRow(row, 100, MESSAGES.done, "done");
  } catch (error) {
    files.delete(slot);
    const text = error instanceof ApiError ? error.messageZh : MESSAGES.unknown;
    setRow(row, 0, text, "failed");
    showError(text);
  }
  updateSubmit();
}

async function uploadFile(file, kind, row, slot) {
  const caseId = state.session.caseId;
  state.uploads = state.uploads || {};
  let saved = state.uploads[slot];
  let upload = null;
  if (saved && saved.fingerprint === fingerprint(file)) {
    upload = await api("GET", `/cases/${caseId}/uploads/${saved.id}`).catch(() => null);
    if (!upload || upload.status !== "active") upload = null;
  }
  if (!upload) {
    upload = await api("POST", `/cases/${caseId}/uploads`, {
      kind,
      content_type: contentTypeOf(file, kind),
      size_bytes: file.size,
    });
    upload.parts = [];
  }
  saved = { id: upload.upload_id, fingerprint: fingerprint(file), percent: 0 };
  state.uploads[slot] = saved;
  saveState();

  const etags = new Map(upload.parts.map((part) => [part.part_number, part.etag]));
  let sentBytes = upload.parts.reduce((sum, part) => sum + part.size_bytes, 0);
  const report = (extra) => {
    const percent = Math.floor(((sentBytes + extra) / file.size) * 100);
    saved.percent = percent;
    setRow(row, percent, `${MESSAGES.uploading} ${percent}%`);
  };
  report(0);
  const missing = [];
  for (let number = 1; number <= upload.part_count; number += 1) {
    if (!etags.has(number)) missing.push(number);
  }
  for (const number of missing) {
    const size = number < upload.part_count
      ? upload.part_size
      : file.size - upload.part_size * (upload.part_count - 1);
    const start = (number - 1) * upload.part_size;
    const blob = file.slice(start, start + size);
    etags.set(number, await sendPart(caseId, upload.upload_id, number, blob, report));
    sentBytes += size;
    saveState();
  }

  setRow(row, 100, MESSAGES.checking);
  const parts = Array.from(etags.keys()).sort((a, b) => a - b).map((number) => ({
    part_number: number,
    size_bytes: 0,
    etag: etags.get(number),
  }));
  await api("POST", `/cases/${caseId}/uploads/${upload.upload_id}/complete`, { parts });
  saved.done = true;
  saveState();
}

// Send one part, retrying through dropped connections and expired URLs.
async function sendPart(caseId, uploadId, number, blob, report) {
  let delay = 1;
  for (;;) {
    await waitUntilOnline();
    let url;
    try {
      const urls = await api("POST", `/cases/${caseId}/uploads/${uploadId}/part-urls`,
        { part_numbers: [number] });
      url = urls.urls[0].url;
    } catch (error) {
      if (error.status !== 0 && error.status < 500) throw error;
      showNotice(MESSAGES.network);
      await sleep(delay);
      delay = Math.min(delay * 2, RETRY_MAX_SECONDS);
      continue;
    }
    const result = await putBlob(url, blob, report);
    if (result.etag) {
      showNotice("");
      return result.etag;
    }
    // 403 means the URL expired: the next round requests a fresh one from intake.
    showNotice(result.status === 0 ? MESSAGES.network : MESSAGES.storage);
    report(0);
    await sleep(result.status === 403 ? 0 : delay);
    delay = Math.min(delay * 2, RETRY_MAX_SECONDS);
  }
}

function putBlob(url, blob, report) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.upload.onprogress = (event) => report(event.loaded);
    request.onload = () => resolve({
      status: request.status,
      etag: request.status === 200 ? request.getResponseHeader("ETag") : null,
    });
    request.onerror = () => resolve({ status: 0, etag: null });
    request.ontimeout = () => resolve({ status: 0, etag: null });
    request.send(blob);
  });
}

function waitUntilOnline() {
  if (navigator.onLine) return Promise.resolve();
  showNotice(MESSAGES.network);
  return new Promise((resolve) => window.addEventListener("online", resolve, {
    once: true,
  }));
}

function sleep(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function updateSubmit() {
  const entries = Array.from(files.values());
  const video = entries.find((entry) => entry.kind === "video");
  const busy = entries.some((entry) => !entry.done);
  $("submit").disabled = busy || !(video && video.done);
}

async function submit() {
  showError("");
  $("submit").disabled = true;
  try {
    await api("POST", `/cases/${state.session.caseId}/submit`);
    finish("submitted");
  } catch (error) {
    showError(error.messageZh);
    updateSubmit();
  }
}

function finish(status) {
  state.uploads = {};
  saveState();
  showNotice("");
  showStep("done");
  if (status === "on_scene") {
    $("done-title").textContent = "⚠ 本案件不能远程处理";
    $("done-text").textContent = "请留在现场并拨打 122 报警，由交通民警到现场处理。";
  } else if (status !== "submitted") {
    $("done-title").textContent = "本案件已不能在手机上提交证据";
    $("done-text").textContent = "请按民警或短信的指引办理。";
  }
}

// ---- Start ----

function start() {
  const match = /[#&]t=([A-Za-z0-9_.-]+)/.exec(window.location.hash);
  if (match && match[1] !== state.link) {
    const grant = linkGrant(match[1]);
    state = {
      link: match[1],
      view: /[#&]v=settlement(&|$)/.test(window.location.hash) ? "settlement" : "case",
      partyId: grant ? grant.party_id : null,
    };
    saveState();
  }
  if (match) history.replaceState(null, "", window.location.pathname);
  $("send-code").addEventListener("click", sendCode);
  $("confirm-code").addEventListener("click", confirmCode);
  $("give-consent").addEventListener("click", giveConsent);
  $("video").addEventListener("change", pickVideo);
  $("photos").addEventListener("change", pickPhotos);
  $("submit").addEventListener("click", submit);
  $("sign-out").addEventListener("click", signOut);
  bindSettlement();
  window.addEventListener("online", () => showNotice(""));

  const expired = state.session && new Date(state.session.expiresAt) <= new Date();
  if (state.session && !expired) {
    openView();
  } else if (state.link) {
    state.session = null;
    showStep("code");
  } else {
    showError("请通过短信中的链接打开本页面。");
  }
}

start();
