// The catalogue: search, keyset pages, and (for roles that may edit) the product form and how
// far a saved product has reached the registers.

import { api, enc, query } from "../api";
import { clearMarks, keepingInputs } from "../dom";
import { count, dollars, esc, money, priceText, splitBarcodes, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import type { PageFactory } from "../page";
import { can } from "../roles";
import { importHtml, wireImports } from "./imports";
import type { Product, Reach, TaxClass } from "../types";

const PAGE = 50;
const TAXES: TaxClass[] = ["standard", "zero_rated", "gst_only"];

export const productsPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const editor = can(ctx.session.role, "edit_products");
  let items: Product[] = [];
  let more = false;
  let q = "";
  /** The SKU being edited; null for a new product. */
  let editing: string | null = null;
  /** The product whose spread to the registers is on show. */
  let reachSku: string | null = null;
  let reachTimer: ReturnType<typeof setInterval> | undefined;
  ctx.onLeave(() => clearInterval(reachTimer));

  root.innerHTML = `
    <h1>${w("page_products")}</h1>
    <div class="toolbar">
      <div class="field grow"><label for="product-search">${w("search")}</label><input id="product-search" type="search" autocomplete="off" /></div>
      ${editor ? `<button type="button" id="product-new" class="primary">${w("newProduct")}</button>` : `<p class="muted">${w("readOnly")}</p>`}
    </div>
    <section class="card scroll products-list"><div class="list"></div>
      <button type="button" id="product-more" hidden>${w("more")}</button></section>
    ${editor ? formHtml(lang) : ""}
    ${importHtml(lang, editor)}`;
  wireImports(ctx, root);
  const list = root.querySelector<HTMLElement>(".list")!;
  const moreButton = root.querySelector<HTMLButtonElement>("#product-more")!;
  const form = root.querySelector<HTMLFormElement>("#product-form");
  const reachBox = root.querySelector<HTMLElement>("#product-reach");

  async function fetchPage(after: string, limit: number): Promise<Product[]> {
    return api.get<Product[]>(`/api/catalogue${query({ q, after, limit })}`);
  }

  /** Fetches again as many products as are on show (at least one page). */
  async function fetchAll(): Promise<void> {
    const want = Math.max(PAGE, items.length);
    const got: Product[] = [];
    let page: Product[];
    do {
      page = await fetchPage(got.length ? got[got.length - 1].sku : "", PAGE);
      got.push(...page);
    } while (page.length === PAGE && got.length < want);
    items = got;
    more = page.length === PAGE;
  }

  function paint() {
    keepingInputs(list, () => {
      list.innerHTML = items.length ? tableHtml(items, editor, lang) : `<p class="muted">${w("noProducts")}</p>`;
    });
    moreButton.hidden = !more;
  }

  async function showReach() {
    if (!reachBox || !reachSku) return;
    try {
      const r = await api.get<Reach>(`/api/products/${enc(reachSku)}/reach`);
      reachBox.hidden = false;
      reachBox.dataset.reached = String(r.reached);
      reachBox.dataset.registers = String(r.registers);
      reachBox.dataset.sku = r.sku;
      reachBox.dataset.version = String(r.version);
      reachBox.textContent = t("reach", lang, { sku: r.sku, version: r.version, reached: r.reached, registers: r.registers });
      reachBox.classList.toggle("complete", r.registers > 0 && r.reached >= r.registers);
    } catch (e) {
      ctx.fail(e);
    }
  }

  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  root.querySelector<HTMLInputElement>("#product-search")!.addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    const value = (e.target as HTMLInputElement).value.trim();
    searchTimer = setTimeout(() => {
      q = value;
      items = [];
      ctx.reload();
    }, 300);
  });
  ctx.onLeave(() => clearTimeout(searchTimer));

  moreButton.addEventListener("click", async () => {
    try {
      const page = await fetchPage(items.length ? items[items.length - 1].sku : "", PAGE);
      items = items.concat(page);
      more = page.length === PAGE;
      paint();
    } catch (e) {
      ctx.fail(e);
    }
  });

  if (form) {
    const field = <T extends HTMLElement>(id: string) => form.querySelector<T>(`#${id}`)!;
    const fill = (p: Product | null) => {
      editing = p ? p.sku : null;
      clearMarks(form);
      root.querySelector<HTMLHeadingElement>("#product-form-title")!.textContent = p ? t("editProduct", lang, { sku: p.sku }) : t("newProduct", lang);
      const sku = field<HTMLInputElement>("product-sku");
      sku.value = p?.sku ?? "";
      sku.readOnly = p !== null;
      field<HTMLInputElement>("product-name").value = p?.name ?? "";
      field<HTMLTextAreaElement>("product-description").value = p?.description ?? "";
      field<HTMLInputElement>("product-category").value = p?.category ?? "";
      field<HTMLInputElement>("product-price").value = p ? dollars(p.price) : "";
      field<HTMLSelectElement>("product-tax").value = p?.tax_class ?? "standard";
      field<HTMLInputElement>("product-barcodes").value = p?.barcodes.join(" ") ?? "";
      field<HTMLInputElement>("product-threshold").value = String(p?.reorder_threshold ?? 0);
      field<HTMLInputElement>("product-max").value = String(p?.max_level ?? 0);
      field<HTMLInputElement>("product-active").checked = p?.active ?? true;
    };
    root.querySelector("#product-new")!.addEventListener("click", () => {
      fill(null);
      field<HTMLInputElement>("product-sku").focus();
    });
    list.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-edit]");
      if (!button) return;
      const p = items.find((x) => x.sku === button.dataset.edit);
      if (!p) return;
      fill(p);
      form.scrollIntoView({ block: "nearest" });
      field<HTMLInputElement>("product-name").focus();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearMarks(form);
      const sku = field<HTMLInputElement>("product-sku").value.trim();
      const body = {
        name: field<HTMLInputElement>("product-name").value.trim(),
        description: field<HTMLTextAreaElement>("product-description").value,
        category: field<HTMLInputElement>("product-category").value.trim(),
        barcodes: splitBarcodes(field<HTMLInputElement>("product-barcodes").value),
        price: priceText(field<HTMLInputElement>("product-price").value),
        tax_class: field<HTMLSelectElement>("product-tax").value,
        reorder_threshold: wholeNumber(field<HTMLInputElement>("product-threshold").value),
        max_level: wholeNumber(field<HTMLInputElement>("product-max").value),
        active: field<HTMLInputElement>("product-active").checked,
      };
      const save = field<HTMLButtonElement>("product-save");
      save.disabled = true;
      try {
        if (editing) await api.put(`/api/products/${enc(editing)}`, body);
        else await api.post("/api/products", { sku, ...body });
        ctx.say(t("saved", lang));
        reachSku = editing ?? sku;
        if (!editing) {
          // The new product is now on file: further saves edit it.
          editing = sku;
          field<HTMLInputElement>("product-sku").readOnly = true;
          root.querySelector<HTMLHeadingElement>("#product-form-title")!.textContent = t("editProduct", lang, { sku });
        }
        await showReach();
        clearInterval(reachTimer);
        reachTimer = setInterval(() => void showReach(), 5000);
        ctx.reload();
      } catch (err) {
        ctx.fail(err, form);
      } finally {
        save.disabled = false;
      }
    });
  }

  return {
    async refresh() {
      await fetchAll();
      paint();
    },
    changed() {
      ctx.reload();
      void showReach();
    },
  };
};

/** A whole number typed in a box; what is not one goes to the server as-is to be refused there. */
function wholeNumber(text: string): number {
  const n = Number(text.trim() === "" ? "0" : text.trim());
  return Number.isFinite(n) ? n : NaN;
}

function formHtml(lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  return `
    <section class="card product-editor" aria-labelledby="product-form-title">
      <h2 id="product-form-title">${w("newProduct")}</h2>
      <form id="product-form" novalidate>
        <div class="field"><label for="product-sku">${w("sku")}</label><input id="product-sku" name="sku" required autocomplete="off" /></div>
        <div class="field"><label for="product-name">${w("name")}</label><input id="product-name" name="name" required autocomplete="off" /></div>
        <div class="field"><label for="product-description">${w("description")}</label><textarea id="product-description" name="description" rows="3"></textarea></div>
        <div class="field"><label for="product-category">${w("category")}</label><input id="product-category" name="category" autocomplete="off" /></div>
        <div class="pair">
          <div class="field"><label for="product-price">${w("price")}</label><input id="product-price" name="price" inputmode="decimal" autocomplete="off" aria-describedby="product-price-help" /><small id="product-price-help" class="help">${w("priceHelp")}</small></div>
          <div class="field"><label for="product-tax">${w("tax")}</label><select id="product-tax" name="tax_class">${TAXES.map(
            (x) => `<option value="${x}">${w(`tax_${x}`)}</option>`,
          ).join("")}</select></div>
        </div>
        <div class="field"><label for="product-barcodes">${w("barcodes")}</label><input id="product-barcodes" name="barcodes" autocomplete="off" aria-describedby="product-barcodes-help" /><small id="product-barcodes-help" class="help">${w("barcodesHelp")}</small></div>
        <div class="pair">
          <div class="field"><label for="product-threshold">${w("threshold")}</label><input id="product-threshold" name="reorder_threshold" type="number" min="0" step="1" value="0" /></div>
          <div class="field"><label for="product-max">${w("maxStock")}</label><input id="product-max" name="max_level" type="number" min="0" step="1" value="0" /></div>
        </div>
        <div class="form-end">
          <div class="check"><input id="product-active" name="active" type="checkbox" checked /><label for="product-active">${w("active")}</label></div>
          <button type="submit" id="product-save" class="primary">${w("save")}</button>
        </div>
      </form>
      <p id="product-reach" class="reach" aria-live="polite" hidden></p>
    </section>`;
}

function tableHtml(items: Product[], editor: boolean, lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  return `
    <table class="grid">
      <caption class="visually-hidden">${w("page_products")}</caption>
      <thead><tr><th scope="col">${w("sku")}</th><th scope="col">${w("name")}</th><th scope="col">${w("category")}</th>
        <th scope="col" class="num">${w("price")}</th><th scope="col">${w("tax")}</th><th scope="col" class="num">${w("thresholdShort")}</th>
        <th scope="col" class="num">${w("max")}</th><th scope="col">${w("active")}</th>${editor ? `<th scope="col">${w("actions")}</th>` : ""}</tr></thead>
      <tbody>${items
        .map(
          (p) => `<tr data-sku="${esc(p.sku)}"${p.active ? "" : ' class="inactive"'}>
            <td class="nowrap">${esc(p.sku)}</td><td>${esc(p.name)}</td><td>${esc(p.category)}</td>
            <td class="num" data-cents="${p.price}">${esc(money(p.price, lang))}</td>
            <td class="nowrap">${esc(tOr(`tax_${p.tax_class}`, lang, p.tax_class))}</td>
            <td class="num">${esc(count(p.reorder_threshold, lang))}</td>
            <td class="num">${p.max_level ? esc(count(p.max_level, lang)) : "—"}</td>
            <td>${w(p.active ? "yes" : "no")}</td>
            ${editor ? `<td><button type="button" data-edit="${esc(p.sku)}" aria-label="${esc(`${t("edit", lang)} ${p.sku}`)}">${w("edit")}</button></td>` : ""}
          </tr>`,
        )
        .join("")}</tbody>
    </table>`;
}
