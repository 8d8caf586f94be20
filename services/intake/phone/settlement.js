// The settlement view: the ruling, the party's assessed claim, consent and the
// payee account. The settlement SMS link opens the page with "v=settlement" in
// the fragment, and app.js signs the party in and then calls openSettlement().
"use strict";

const CATEGORY_ZH = {
  full: "全部责任",
  primary: "主要责任",
  equal: "同等责任",
  secondary: "次要责任",
  none: "无责任",
};
// Intake accepts 12 to 19 digits, which spaces or hyphens may group.
const ACCOUNT_DIGITS_MIN = 12;
const ACCOUNT_DIGITS_MAX = 19;
const PAYEE_FIELDS = ["consent", "account_holder", "bank", "account_number"];
const SETTLEMENT_TEXT = {
  title: "理赔确认",
  notAssessed: "保险公司尚未完成定损。收到定损短信后，请再打开短信中的链接确认。",
  caseClosed: "本案件已关闭，不能再确认理赔。如有疑问请联系保险公司。",
  claimClosed: "保险公司已办结这笔理赔，无需再确认。",
  consentMissing: "请勾选确认定损金额，并同意将收款账户提供给保险公司。",
  holderMissing: "请填写开户人姓名。",
  bankMissing: "请填写开户银行。",
  numberMissing: "请填写银行卡号。",
  numberNotDigits: "银行卡号只能包含数字，请核对后重新输入。",
};

let settlementView = null;
let claimToConfirm = null;

// Read which party and case a link token names. Intake checks the signature, so
// the page only reads the party whose settlement it addresses.
function linkGrant(token) {
  try {
    const part = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch (error) {
    return null;
  }
}

function money(cents) {
  return (cents / 100).toLocaleString("zh-CN", { style: "currency", currency: "CNY" });
}

function settlementPath() {
  const partyId = state.partyId || state.session.partyId;
  return `/cases/${state.session.caseId}/parties/${partyId}/settlement`;
}

function fillList(element, rows) {
  element.replaceChildren();
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    element.append(dt, dd);
  }
}

async function openSettlement() {
  document.title = SETTLEMENT_TEXT.title;
  $("title").textContent = SETTLEMENT_TEXT.title;
  try {
    settlementView = await api("GET", settlementPath());
  } catch (error) {
    showError(error.messageZh);
    if (!state.session || error.code === "settlement_not_yours") {
      state.session = null;
      saveState();
      showStep("code");
    }
    return;
  }
  renderSettlement();
}

function renderSettlement() {
  const view = settlementView;
  showNotice("");
  fillList($("ruling-details"), [
    ["案件号", view.case_id.slice(0, 8)],
    ["认定书编号", view.document_number || "—"],
  ]);
  const shares = $("ruling-shares");
  shares.replaceChildren();
  for (const share of view.shares) {
    const item = document.createElement("li");
    const you = share.party_id === view.party_id ? "（您）" : "";
    item.textContent = `${share.party_id} 方 ${share.name} ${share.plate}${you}：` +
      `${CATEGORY_ZH[share.category] || share.category} ${share.share}%`;
    shares.append(item);
  }

  const confirmed = view.claims.find((claim) => claim.confirmation);
  claimToConfirm = view.claims.find(
    (claim) => claim.status === "assessed" && !claim.confirmation);
  if (claimToConfirm && !view.case_closed) {
    showPayeeForm(claimToConfirm);
  } else if (confirmed) {
    showSettled(confirmed);
  } else {
    let text = SETTLEMENT_TEXT.notAssessed;
    if (view.case_closed) text = SETTLEMENT_TEXT.caseClosed;
    else if (view.claims.length) text = SETTLEMENT_TEXT.claimClosed;
    showWaiting(text);
  }
}

function showWaiting(text) {
  showStep("settlement");
  $("payee-form").hidden = true;
  $("settlement-waiting").textContent = text;
  $("settlement-waiting").hidden = false;
}

function showPayeeForm(claim) {
  showStep("settlement");
  $("settlement-waiting").hidden = true;
  fillList($("claim-details"), [
    ["保险公司", claim.insurer_name],
    ["理赔编号", claim.claim_number],
    ["核定金额", money(claim.assessed_cents)],
  ]);
  $("payee-form").hidden = false;
}

function showSettled(claim) {
  const payee = claim.confirmation.payee;
  const account = `${payee.bank} ${payee.account_number_masked}`;
  showStep("settled");
  if (claim.status === "settled") {
    $("settled-title").textContent = "✓ 理赔已赔付";
    $("settled-text").textContent =
      `${claim.insurer_name}已赔付 ${money(claim.settled_cents)}，请留意 ${account} 的到账。`;
  } else {
    $("settled-title").textContent = "✓ 已确认理赔";
    $("settled-text").textContent =
      `${claim.insurer_name}将把赔款 ${money(claim.confirmation.amount_cents)} ` +
      `支付至 ${account}，请留意到账短信。`;
  }
  fillList($("settled-details"), [
    ["理赔编号", claim.claim_number],
    ["开户人", payee.account_holder],
    ["收款账户", account],
    ["确认时间", new Date(claim.confirmation.confirmed_at).toLocaleString("zh-CN")],
  ]);
}

function payeeForm() {
  return {
    claim_number: claimToConfirm.claim_number,
    consent: $("settle-consent").checked,
    account_holder: $("account-holder").value.trim(),
    bank: $("bank").value.trim(),
    account_number: $("account-number").value.trim(),
  };
}

// The same checks as intake's, so most mistakes show before anything is sent.
function payeeProblems(form) {
  const problems = [];
  const add = (field, text) => problems.push({ field, message_zh: text });
  if (!form.consent) add("consent", SETTLEMENT_TEXT.consentMissing);
  if (!form.account_holder) add("account_holder", SETTLEMENT_TEXT.holderMissing);
  if (!form.bank) add("bank", SETTLEMENT_TEXT.bankMissing);
  const digits = form.account_number.replace(/[\s-]/g, "");
  if (!digits) {
    add("account_number", SETTLEMENT_TEXT.numberMissing);
  } else if (!/^[0-9]+$/.test(digits)) {
    add("account_number", SETTLEMENT_TEXT.numberNotDigits);
  } else if (digits.length < ACCOUNT_DIGITS_MIN || digits.length > ACCOUNT_DIGITS_MAX) {
    add("account_number", `银行卡号应为 ${ACCOUNT_DIGITS_MIN} 至 ${ACCOUNT_DIGITS_MAX} ` +
      `位数字，您输入了 ${digits.length} 位，请核对。`);
  }
  return problems;
}

function showFieldErrors(problems) {
  for (const field of PAYEE_FIELDS) {
    $("error-" + field).hidden = true;
  }
  for (const problem of problems) {
    const element = $("error-" + problem.field);
    if (!element) continue;
    element.textContent = problem.message_zh;
    element.hidden = false;
  }
  if (problems.length) {
    $("error-" + problems[0].field).scrollIntoView({ block: "center" });
  }
}

async function confirmSettlement(event) {
  event.preventDefault();
  showError("");
  const form = payeeForm();
  const problems = payeeProblems(form);
  showFieldErrors(problems);
  if (problems.length) return;
  $("confirm-settlement").disabled = true;
  try {
    settlementView = await api("POST", settlementPath(), form);
    renderSettlement();
    window.scrollTo(0, 0);
  } catch (error) {
    if (error.problems) {
      showFieldErrors(error.problems);
    } else {
      showError(error.messageZh);
      if (["settlement_already_confirmed", "case_closed", "claim_closed"].includes(
        error.code)) {
        await openSettlement();
        showError(error.messageZh);
      }
    }
  } finally {
    $("confirm-settlement").disabled = false;
  }
}

function bindSettlement() {
  $("payee-form").addEventListener("submit", confirmSettlement);
}
