// The officers' workbench: sign in, take a case from the queue, watch the video
// and rule. Every call goes to the liability service that serves this page.
"use strict";

const CATEGORIES = [
  ["full", "全部责任"],
  ["primary", "主要责任"],
  ["equal", "同等责任"],
  ["secondary", "次要责任"],
  ["none", "无责任"],
];
const CATEGORY_NAMES = Object.fromEntries(CATEGORIES);
const state = {
  token: null, principal: null, caseId: null, renewTimer: null, queueTimer: null, accidentTypes: [],
  documentTimer: null, documentUrl: null,
};
const $ = (selector) => document.querySelector(selector);

function text(tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value;
  if (className) element.className = className;
  return element;
}

async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/auth/sign-in") {
    signOut("登录已过期，请重新登录。");
    throw new Error("not signed in");
  }
  const payload = response.status === 204 ? null : await response.json();
  return { status: response.status, ok: response.ok, payload };
}

function problemText(payload) {
  const detail = payload && payload.detail;
  if (!detail) return "请求失败，请稍后重试。";
  if (Array.isArray(detail)) return detail.map((item) => `${item.loc.slice(1).join(".")}: ${item.msg}`).join("；");
  return detail.message_zh || detail.message;
}

function waited(seconds) {
  const minutes = Math.floor(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分` : `${minutes} 分 ${seconds % 60} 秒`;
}

// Sign-in

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const result = await call("POST", "/auth/sign-in", {
    username: form.username.value, password: form.password.value,
  });
  if (!result.ok) {
    $("#sign-in-error").textContent = result.status === 401 ? "用户名或密码错误。" : problemText(result.payload);
    return;
  }
  state.token = result.payload.access_token;
  state.principal = result.payload.principal;
  sessionStorage.setItem("workbench", JSON.stringify({ token: state.token, principal: state.principal }));
  form.password.value = "";
  showSignedIn();
}

function signOut(message) {
  state.token = null;
  state.principal = null;
  sessionStorage.removeItem("workbench");
  clearInterval(state.renewTimer);
  clearInterval(state.queueTimer);
  for (const id of ["#who", "#queue-panel", "#case-panel", "#overdue-panel"]) $(id).hidden = true;
  $("#sign-in-panel").hidden = false;
  $("#sign-in-error").textContent = message || "";
}

// The button revokes the token at the service before the page drops it, so a
// copy of the token left elsewhere is of no use either.
async function signOutEverywhere() {
  if (state.token) await call("POST", "/auth/sign-out").catch(() => null);
  signOut("已退出登录。");
}

function showSignedIn() {
  const roles = state.principal.roles;
  $("#sign-in-panel").hidden = true;
  $("#who").hidden = false;
  $("#who-name").textContent = `${state.principal.name}（警号 ${state.principal.badge_number}）`;
  $("#queue-panel").hidden = false;
  $("#overdue-panel").hidden = !roles.includes("supervisor");
  if (roles.includes("officer") && state.accidentTypes.length === 0) loadAccidentTypes();
  loadQueue();
  clearInterval(state.queueTimer);
  state.queueTimer = setInterval(loadQueue, 5000);
}

// Decision support: the accident types and the liability each usually carries.

async function loadAccidentTypes() {
  const result = await call("GET", "/accident-types");
  if (!result.ok) return;
  state.accidentTypes = result.payload.types;
  const select = $("#ruling-form").accident_type;
  select.replaceChildren(Object.assign(text("option", "请选择"), { value: "" }));
  for (const item of state.accidentTypes) select.append(Object.assign(text("option", item.name_zh), { value: item.code }));
}

function chosenType() {
  const code = $("#ruling-form").accident_type.value;
  return state.accidentTypes.find((item) => item.code === code) || null;
}

function showSuggestion() {
  const type = chosenType();
  const form = $("#ruling-form");
  if (!type) {
    $("#suggestion").textContent = "";
    return;
  }
  const shares = type.suggested.map((item) => `${item.role_zh}：${CATEGORY_NAMES[item.category]} ${item.share}%`);
  $("#suggestion").textContent = `常见划分：${shares.join("；")}。依据：${type.rule}。`;
  if (!form.rule_applied.value.trim()) form.rule_applied.value = type.rule;
  checkForm();
}

// Whether the form's categories and shares differ from the type's suggestion,
// matching parties to roles by liability as the service does.
function departsFromSuggestion(type, liabilities) {
  const key = (items) => items.map((item) => `${item.category}:${item.share}`).sort().join(",");
  return key(type.suggested) !== key(liabilities);
}

// Queue

async function loadQueue() {
  // A refresh would wipe what a supervisor is typing into a reassignment field.
  if (document.activeElement && document.activeElement.matches("#queue input")) return;
  const result = await call("GET", "/cases");
  if (!result.ok) {
    $("#queue-error").textContent = problemText(result.payload);
    return;
  }
  $("#queue-error").textContent = "";
  const body = $("#queue tbody");
  body.replaceChildren();
  const canRule = state.principal.roles.includes("officer");
  for (const item of result.payload) {
    const row = document.createElement("tr");
    row.dataset.caseId = item.case_id;
    if (item.escalated || item.urgent) row.className = "escalated";
    const number = text("td", item.case_id.slice(0, 8));
    if (item.urgent) number.append(" ", text("span", "紧急", "tag"));
    if (item.escalated) number.append(" ", text("span", "已超时", "tag"));
    row.append(number, text("td", item.address), text("td", item.plates.join("、")),
      text("td", waited(item.waiting_seconds)), text("td", item.claimed_by || "—"));
    const action = document.createElement("td");
    if (canRule && (!item.claimed_by || item.claimed_by_me)) {
      const button = text("button", item.claimed_by_me ? "继续处理" : "领取");
      button.type = "button";
      button.addEventListener("click", () => claim(item.case_id));
      action.append(button);
    }
    if (state.principal.roles.includes("supervisor")) {
      action.append(reassignControl(item.case_id), urgencyControl(item));
    }
    row.append(action);
    body.append(row);
  }
  $("#queue-empty").hidden = result.payload.length > 0;
  if (state.principal.roles.includes("supervisor")) loadOverdue();
}

// A supervisor gives the case to an officer by badge number.
function reassignControl(caseId) {
  const box = document.createElement("span");
  const badge = Object.assign(document.createElement("input"), {
    name: `reassign-${caseId}`, placeholder: "警号", size: 8,
  });
  const button = text("button", "改派");
  button.type = "button";
  button.addEventListener("click", async () => {
    const result = await call("POST", `/cases/${caseId}/reassign`, { officer_badge: badge.value.trim() });
    $("#queue-error").textContent = result.ok ? "" : problemText(result.payload);
    loadQueue();
  });
  box.append(badge, button);
  return box;
}

function urgencyControl(item) {
  const button = text("button", item.urgent ? "取消紧急" : "标为紧急");
  button.type = "button";
  button.addEventListener("click", async () => {
    const result = await call("PUT", `/cases/${item.case_id}/priority`, { urgent: !item.urgent });
    $("#queue-error").textContent = result.ok ? "" : problemText(result.payload);
    loadQueue();
  });
  return button;
}

async function loadOverdue() {
  const result = await call("GET", "/supervisor/overdue");
  if (!result.ok) return;
  const body = $("#overdue tbody");
  body.replaceChildren();
  for (const item of result.payload) {
    const row = document.createElement("tr");
    row.append(text("td", item.case_id.slice(0, 8)), text("td", new Date(item.breached_at).toLocaleString("zh-CN")),
      text("td", String(item.target_minutes)), text("td", item.claimed_by || "未领取"), text("td", item.status));
    body.append(row);
  }
}

async function claim(caseId) {
  const result = await call("POST", `/cases/${caseId}/claim`);
  if (!result.ok) {
    $("#queue-error").textContent = problemText(result.payload);
    loadQueue();
    return;
  }
  await openCase(caseId, result.payload);
}

// The claim is a lease: renew it while the case is open, so an idle officer's
// case goes back to the queue on its own.
function keepLease(caseId, claim) {
  clearInterval(state.renewTimer);
  const every = Math.max(5, Math.floor(claim.lease_seconds / 3)) * 1000;
  showLease(claim);
  state.renewTimer = setInterval(async () => {
    const result = await call("POST", `/cases/${caseId}/claim/renew`);
    if (result.ok) {
      showLease(result.payload);
    } else {
      clearInterval(state.renewTimer);
      $("#lease-info").textContent = `领取已失效：${problemText(result.payload)}`;
    }
  }, every);
}

function showLease(claim) {
  const until = new Date(claim.lease_expires_at).toLocaleTimeString("zh-CN");
  $("#lease-info").textContent = `已由您领取，页面打开期间自动续期（当前至 ${until}）。`;
}

// Case file

async function openCase(caseId, claim) {
  const result = await call("GET", `/cases/${caseId}`);
  if (!result.ok) {
    $("#queue-error").textContent = problemText(result.payload);
    return;
  }
  const file = result.payload;
  const details = file.case;
  state.caseId = caseId;
  clearInterval(state.queueTimer);
  $("#queue-panel").hidden = true;
  $("#overdue-panel").hidden = true;
  $("#case-panel").hidden = false;
  $("#ruled").hidden = true;
  $("#ruling-form").hidden = false;
  $("#case-number").textContent = caseId.slice(0, 8);
  $("#case-escalated").hidden = !file.escalated_at;
  $("#accident-at").textContent = new Date(details.accident_at).toLocaleString("zh-CN");
  $("#address").textContent = details.location.address;
  $("#coordinates").textContent = `${details.location.latitude}, ${details.location.longitude}`;
  $("#description").textContent = details.description || "（无）";
  const facts = details.video.facts;
  $("#video-facts").textContent = `${facts.codec}，${facts.width}×${facts.height}，${Math.round(facts.duration_seconds)} 秒`;
  showVideo(file.video_url, details.video);
  showThumbnails(file.thumbnails || []);
  showWarnings(file.warnings || []);
  showParties(details.parties);
  buildRulingForm(details.parties);
  hideRulingDocument();
  if (file.status === "ruled") {
    $("#ruling-form").hidden = true;
    $("#ruled").hidden = false;
    $("#ruled-text").textContent = "该案件已作出认定。";
    showRulingDocument(caseId);
    return;
  }
  keepLease(caseId, claim);
}

function showVideo(url, video) {
  const player = $("#video");
  const fallback = $("#video-fallback");
  fallback.hidden = true;
  fallback.replaceChildren();
  const explain = () => {
    fallback.hidden = false;
    fallback.replaceChildren(
      `本浏览器无法播放此视频（编码 ${video.facts.codec}，手机常用的 HEVC/H.265 多数浏览器不支持）。请`,
      Object.assign(text("a", "下载视频"), { href: url, download: "" }),
      "后用本地播放器查看。");
  };
  player.onerror = explain;
  const type = `${video.content_type}; codecs="${video.facts.codec === "hevc" ? "hvc1" : "avc1.42E01E"}"`;
  if (video.facts.codec === "hevc" && player.canPlayType(type) === "") explain();
  player.src = url;
}

// Keyframes in the order of the video; a click seeks the player to the frame's time.
function showThumbnails(thumbnails) {
  const box = $("#thumbnails");
  box.replaceChildren();
  thumbnails.forEach((thumbnail, index) => {
    const image = document.createElement("img");
    image.src = thumbnail.url;
    const known = thumbnail.at_seconds !== null && thumbnail.at_seconds !== undefined;
    image.alt = known ? `关键帧 ${index + 1}（${thumbnail.at_seconds} 秒）` : `关键帧 ${index + 1}`;
    image.title = image.alt;
    image.addEventListener("click", () => {
      const player = $("#video");
      if (known) player.currentTime = thumbnail.at_seconds;
      else if (player.duration) player.currentTime = (player.duration * index) / thumbnails.length;
    });
    box.append(image);
  });
}

function showWarnings(warnings) {
  const list = $("#warnings");
  list.replaceChildren(...warnings.map((warning) => text("li", warning.message_zh || warning.message)));
  list.hidden = warnings.length === 0;
}

function showParties(parties) {
  const body = $("#parties tbody");
  body.replaceChildren();
  for (const party of parties) {
    const row = document.createElement("tr");
    row.append(text("td", party.party_id), text("td", party.name), text("td", party.plate),
      text("td", party.insurer_code), text("td", party.policy_number));
    body.append(row);
  }
}

// Ruling form

function buildRulingForm(parties) {
  const form = $("#ruling-form");
  form.reset();
  clearProblems();
  const body = $("#liabilities tbody");
  body.replaceChildren();
  for (const party of parties) {
    const row = document.createElement("tr");
    row.dataset.partyId = party.party_id;
    const category = document.createElement("select");
    category.name = `category-${party.party_id}`;
    for (const [value, label] of CATEGORIES) category.append(Object.assign(text("option", label), { value }));
    const share = Object.assign(document.createElement("input"), {
      type: "number", min: 0, max: 100, step: 1, name: `share-${party.party_id}`, value: "0",
    });
    // Full and no liability fix the share, so the form fills it in.
    category.addEventListener("change", () => {
      if (category.value === "full") share.value = "100";
      if (category.value === "none") share.value = "0";
      checkForm();
    });
    share.addEventListener("input", checkForm);
    const cell = document.createElement("td");
    cell.append(category);
    const shareCell = document.createElement("td");
    shareCell.append(share);
    row.append(text("td", `${party.party_id}（${party.plate}）`), cell, shareCell);
    body.append(row);
  }
  form.facts.oninput = checkForm;
  form.rule_applied.oninput = checkForm;
  form.departure_reason.oninput = checkForm;
  form.accident_type.onchange = showSuggestion;
  $("#suggestion").textContent = "";
}

function readDraft() {
  const form = $("#ruling-form");
  const liabilities = [...document.querySelectorAll("#liabilities tbody tr")].map((row) => ({
    party_id: row.dataset.partyId,
    category: row.querySelector("select").value,
    share: Number.parseInt(row.querySelector("input").value || "0", 10),
  }));
  return {
    facts: form.facts.value.trim(),
    rule_applied: form.rule_applied.value.trim(),
    liabilities,
    accident_type: form.accident_type.value || null,
    departure_reason: form.departure_reason.value.trim(),
  };
}

// The same rules the service applies, checked as the officer types. The
// service's response decides.
function localProblems(draft) {
  const problems = [];
  const add = (field, message) => problems.push({ field, message_zh: message });
  for (const item of draft.liabilities) {
    if (item.category === "full" && item.share !== 100) add("liabilities", `${item.party_id} 方为全部责任，比例应为 100。`);
    if (item.category === "none" && item.share !== 0) add("liabilities", `${item.party_id} 方为无责任，比例应为 0。`);
  }
  const total = draft.liabilities.reduce((sum, item) => sum + item.share, 0);
  if (total !== 100) add("liabilities", `各方责任比例之和应为 100，当前为 ${total}。`);
  const equal = draft.liabilities.filter((item) => item.category === "equal").map((item) => item.share);
  if (equal.length > 1 && Math.max(...equal) - Math.min(...equal) > 1) add("liabilities", "同等责任各方的比例应相同。");
  const type = chosenType();
  if (type && departsFromSuggestion(type, draft.liabilities) && !draft.departure_reason) {
    add("departure_reason", "责任划分与该事故类型的常见划分不同，请填写理由。");
  }
  return problems;
}

function clearProblems() {
  for (const element of document.querySelectorAll("#ruling-form .error")) element.textContent = "";
  for (const element of document.querySelectorAll("#ruling-form .invalid")) element.classList.remove("invalid");
}

function showProblems(problems) {
  clearProblems();
  const byField = {};
  for (const problem of problems) (byField[problem.field] ||= []).push(problem.message_zh || problem.message);
  for (const [field, messages] of Object.entries(byField)) {
    const slot = document.querySelector(`#ruling-form .error[data-field="${field}"]`)
      || document.querySelector('#ruling-form .error[data-field="form"]');
    slot.textContent = messages.join(" ");
    const inputs = field === "liabilities"
      ? document.querySelectorAll("#liabilities input, #liabilities select")
      : document.querySelectorAll(`#ruling-form [name="${field}"]`);
    for (const input of inputs) input.classList.add("invalid");
  }
}

function checkForm() {
  showProblems(localProblems(readDraft()));
}

async function submitRuling(event) {
  event.preventDefault();
  const draft = readDraft();
  const result = await call("POST", `/cases/${state.caseId}/ruling`, draft);
  if (result.ok) {
    clearInterval(state.renewTimer);
    $("#ruling-form").hidden = true;
    $("#ruled").hidden = false;
    $("#lease-info").textContent = "";
    $("#ruled-text").textContent = `认定已提交（${new Date(result.payload.ruled_at).toLocaleString("zh-CN")}），责任认定书生成后将发送给各方当事人。`;
    showRulingDocument(state.caseId);
    return;
  }
  const detail = result.payload && result.payload.detail;
  if (detail && Array.isArray(detail.problems)) {
    showProblems(detail.problems);
  } else if (Array.isArray(detail)) {
    showProblems(detail.map((item) => ({ field: item.loc[1] || "form", message: item.msg })));
  } else {
    showProblems([{ field: "form", message_zh: problemText(result.payload) }]);
  }
}

// The signed ruling document. The workflow issues it a few seconds after the
// ruling, so the page polls until it is there. The PDF is fetched with the
// sign-in and shown from a blob URL, because a frame cannot send the bearer token.
const DOCUMENT_POLL_MS = 1000;
const DOCUMENT_POLL_LIMIT = 120;

function hideRulingDocument() {
  clearTimeout(state.documentTimer);
  if (state.documentUrl) URL.revokeObjectURL(state.documentUrl);
  state.documentUrl = null;
  $("#ruling-document").hidden = true;
  $("#document-frame").removeAttribute("src");
  $("#document-link").removeAttribute("href");
  $("#document-progress").textContent = "";
  $("#document-error").textContent = "";
}

async function showRulingDocument(caseId, attempt = 1) {
  if (attempt === 1) hideRulingDocument();
  if (state.caseId !== caseId) return;
  const result = await call("GET", `/cases/${caseId}/document`);
  if (state.caseId !== caseId) return;
  const code = result.payload && result.payload.detail && result.payload.detail.code;
  if (result.status === 409 && code === "document_not_issued" && attempt < DOCUMENT_POLL_LIMIT) {
    $("#document-progress").textContent = `责任认定书生成中，请稍候（已等待 ${attempt} 秒）…`;
    state.documentTimer = setTimeout(() => showRulingDocument(caseId, attempt + 1), DOCUMENT_POLL_MS);
    return;
  }
  $("#document-progress").textContent = "";
  if (!result.ok) {
    $("#document-error").textContent = `无法取得责任认定书：${problemText(result.payload)}`;
    return;
  }
  await showDocumentFile(caseId, result.payload);
}

async function showDocumentFile(caseId, issued) {
  const response = await fetch(issued.pdf_url, {
    headers: { authorization: `Bearer ${state.token}`, accept: "application/pdf" },
  });
  if (state.caseId !== caseId) return;
  if (response.status === 401) {
    signOut("登录已过期，请重新登录。");
    return;
  }
  if (!response.ok) {
    const payload = await response.json().catch(() => null);
    $("#document-error").textContent = `无法下载责任认定书：${problemText(payload)}`;
    return;
  }
  const bytes = await response.arrayBuffer();
  state.documentUrl = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
  $("#document-number").textContent = issued.document_number;
  $("#document-version").textContent = `第 ${issued.version} 版（共 ${issued.versions.length} 版）`;
  $("#document-link").href = state.documentUrl;
  $("#document-frame").src = state.documentUrl;
  $("#ruling-document").hidden = false;
  await showVerification(issued, bytes);
}

// The page hashes the bytes it received and sends the hash to the public verify
// endpoint, as anyone with the printed number and code can.
async function showVerification(issued, bytes) {
  const slot = $("#document-verification");
  slot.className = "";
  slot.removeAttribute("data-reason");
  if (!issued.verification_code) {
    slot.textContent = "无法从文件中读取验证码，未能核验。";
    slot.className = "error";
    return;
  }
  slot.textContent = "核验中…";
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const sha256 = [...new Uint8Array(digest)].map((value) => value.toString(16).padStart(2, "0")).join("");
  const result = await call("POST", "/documents/verify", {
    document_number: issued.document_number, code: issued.verification_code, sha256,
  });
  if (!result.ok) {
    slot.textContent = `核验失败：${problemText(result.payload)}`;
    slot.className = "error";
    return;
  }
  slot.dataset.reason = result.payload.reason;
  slot.textContent = result.payload.genuine
    ? `核验通过：${result.payload.message_zh}`
    : `核验未通过：${result.payload.message_zh}`;
  slot.className = result.payload.genuine ? "ok" : "error";
}

// The case leaves the queue; the parties get a text with what to film and a link.
async function requestEvidence() {
  const instructions = $("#ruling-form").instructions.value.trim();
  const result = await call("POST", `/cases/${state.caseId}/evidence-request`, { instructions });
  if (!result.ok) {
    const detail = result.payload && result.payload.detail;
    if (detail && Array.isArray(detail.problems)) showProblems(detail.problems);
    else if (Array.isArray(detail)) showProblems([{ field: "instructions", message_zh: "请说明需要当事人补拍的内容。" }]);
    else showProblems([{ field: "form", message_zh: problemText(result.payload) }]);
    return;
  }
  clearInterval(state.renewTimer);
  $("#ruling-form").hidden = true;
  $("#ruled").hidden = false;
  $("#lease-info").textContent = "";
  $("#ruled-text").textContent = "已要求当事人补充证据，案件暂时移出队列，新视频通过检查后将重新排队。";
  hideRulingDocument();
}

async function release() {
  await call("DELETE", `/cases/${state.caseId}/claim`);
  backToQueue();
}

function backToQueue() {
  clearInterval(state.renewTimer);
  hideRulingDocument();
  $("#video").removeAttribute("src");
  $("#case-panel").hidden = true;
  state.caseId = null;
  showSignedIn();
}

// Sign-in at an OpenID Connect provider: the authorization code flow with PKCE,
// for a public client that keeps no secret.

function randomText(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return base64Url(values);
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

async function startProviderSignIn(config) {
  const verifier = randomText(48);
  const challenge = base64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const expected = randomText(24);
  sessionStorage.setItem("provider-sign-in", JSON.stringify({ verifier, state: expected }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: redirectUri(),
    scope: "openid", state: expected, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

// Returns whether the page came back from the provider with a code.
async function finishProviderSignIn(config) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const saved = JSON.parse(sessionStorage.getItem("provider-sign-in") || "{}");
  sessionStorage.removeItem("provider-sign-in");
  history.replaceState(null, "", location.pathname);
  if (!params.has("code") || params.get("state") !== saved.state) {
    $("#sign-in-error").textContent = "统一身份认证未完成，请重新登录。";
    return true;
  }
  const response = await fetch(config.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri(),
      client_id: config.client_id, code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) {
    $("#sign-in-error").textContent = "统一身份认证失败，请重新登录。";
    return true;
  }
  state.token = (await response.json()).access_token;
  const me = await call("GET", "/auth/me");
  if (!me.ok) return true;
  state.principal = me.payload;
  sessionStorage.setItem("workbench", JSON.stringify({ token: state.token, principal: state.principal }));
  showSignedIn();
  return true;
}

async function start() {
  const config = await call("GET", "/auth/config");
  if (config.ok && config.payload.provider === "oidc") {
    $("#sign-in-form").hidden = true;
    $("#provider-sign-in").hidden = false;
    $("#provider-sign-in").addEventListener("click", () => startProviderSignIn(config.payload));
    if (await finishProviderSignIn(config.payload)) return;
  }
  const saved = sessionStorage.getItem("workbench");
  if (saved) {
    Object.assign(state, JSON.parse(saved));
    showSignedIn();
  }
}

$("#sign-in-form").addEventListener("submit", signIn);
$("#sign-out").addEventListener("click", signOutEverywhere);
$("#ruling-form").addEventListener("submit", submitRuling);
$("#release").addEventListener("click", release);
$("#send-evidence-request").addEventListener("click", requestEvidence);
$("#back").addEventListener("click", backToQueue);

start();
