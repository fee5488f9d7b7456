// Small DOM helpers shared by the pages.

/** What identifies a form control across a re-render: its id, else its name and data attributes. */
export function keyOf(el: Element): string | null {
  if (el.id) return `#${el.id}`;
  const data = Object.entries((el as HTMLElement).dataset ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join("&");
  const name = el.getAttribute("name") ?? "";
  return data || name ? `${el.tagName}:${name}:${data}` : null;
}

/** Re-renders `container` with `render()` while keeping what the user had typed or opened in it
 * (values that differ from the rendered default, open <details>, the focused control). */
export function keepingInputs(container: HTMLElement, render: () => void) {
  const values = new Map<string, string | boolean>();
  const open = new Set<string>();
  let focused: string | null = null;
  container.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>("input, textarea, select").forEach((el) => {
    const key = keyOf(el);
    if (!key) return;
    if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) {
      if (el.checked !== el.defaultChecked) values.set(key, el.checked);
    } else if (el instanceof HTMLSelectElement) {
      const chosen = [...el.options].find((o) => o.selected);
      if (chosen && !chosen.defaultSelected) values.set(key, el.value);
    } else if (el.value !== el.defaultValue) values.set(key, el.value);
  });
  container.querySelectorAll("details[open]").forEach((d) => {
    const key = keyOf(d);
    if (key) open.add(key);
  });
  if (document.activeElement && container.contains(document.activeElement)) focused = keyOf(document.activeElement);

  render();

  container.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>("input, textarea, select").forEach((el) => {
    const key = keyOf(el);
    if (!key || !values.has(key)) return;
    const v = values.get(key)!;
    if (typeof v === "boolean") (el as HTMLInputElement).checked = v;
    else el.value = v;
  });
  container.querySelectorAll<HTMLDetailsElement>("details").forEach((d) => {
    const key = keyOf(d);
    if (key && open.has(key)) d.open = true;
  });
  if (focused) {
    const el = [...container.querySelectorAll<HTMLElement>("input, textarea, select, button")].find((e) => keyOf(e) === focused);
    el?.focus();
  }
}

/** Marks the control a problem names (by `name`, else by id) and clears earlier marks. */
export function markField(scope: ParentNode, field: string | undefined): HTMLElement | null {
  clearMarks(scope);
  if (!field) return null;
  const el = scope.querySelector<HTMLElement>(`[name=${sel(field)}]`);
  if (!el) return null;
  el.classList.add("invalid");
  el.setAttribute("aria-invalid", "true");
  return el;
}

export function clearMarks(scope: ParentNode) {
  scope.querySelectorAll(".invalid").forEach((el) => {
    el.classList.remove("invalid");
    el.removeAttribute("aria-invalid");
  });
}

/** An attribute selector value, quoted for querySelector. */
export function sel(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}
