// Settings (admins only): what every register's receipts print of the chain, its legal name
// and its GST and QST registration numbers. The server checks and normalises the numbers; a
// refused one is marked here by the field the problem names.

import { api } from "../api";
import { clearMarks, keepingInputs } from "../dom";
import { esc, type Lang } from "../format";
import { t, type Word } from "../i18n";
import type { PageFactory } from "../page";
import type { ChainSettings } from "../types";

export const settingsPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const w = (word: Word) => esc(t(word, lang));
  root.innerHTML = `
    <h1>${w("page_settings")}</h1>
    <section class="card narrow">
      <h2>${w("chainReceipts")}</h2>
      <p class="help">${w("chainReceiptsHelp")}</p>
      <div class="chain-form"></div>
    </section>`;
  const holder = root.querySelector<HTMLElement>(".chain-form")!;

  holder.addEventListener("submit", async (e) => {
    const form = (e.target as HTMLElement).closest<HTMLFormElement>("#chain-form");
    if (!form) return;
    e.preventDefault();
    clearMarks(form);
    const value = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)!.value;
    try {
      const saved = await api.put<ChainSettings>("/api/chain-settings", {
        legal_name: value("legal_name"),
        gst_number: value("gst_number"),
        qst_number: value("qst_number"),
      });
      // Shown as stored: the numbers come back in the form receipts print.
      holder.innerHTML = renderChainForm(saved, lang);
      ctx.say(t("settingsSaved", lang));
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  return {
    async refresh() {
      const settings = await api.get<ChainSettings>("/api/chain-settings");
      // A refresh on a live event keeps what the admin was typing.
      keepingInputs(holder, () => {
        holder.innerHTML = renderChainForm(settings, lang);
      });
    },
  };
};

/** The form, filled with what is set now. */
export function renderChainForm(settings: ChainSettings, lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const field = (name: keyof ChainSettings, label: Word, help: Word | null, placeholder: string) => `
    <label for="chain-${name}">${w(label)}</label>
    <input id="chain-${name}" name="${name}" value="${esc(settings[name] ?? "")}" autocomplete="off" spellcheck="false"
      placeholder="${esc(placeholder)}"${help ? ` aria-describedby="chain-${name}-help"` : ""} />
    ${help ? `<small id="chain-${name}-help" class="help">${w(help)}</small>` : ""}`;
  return `
    <form id="chain-form" novalidate>
      ${field("legal_name", "legalName", null, "")}
      ${field("gst_number", "gstNumber", "gstHelp", "123456789 RT 0001")}
      ${field("qst_number", "qstNumber", "qstHelp", "1234567890 TQ 0001")}
      <button type="submit" id="chain-save" class="primary">${w("save")}</button>
    </form>`;
}
