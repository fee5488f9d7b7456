import { keepingInputs, markField } from "./dom";

describe("keepingInputs", () => {
  it("keeps what was typed across a re-render, but takes new defaults otherwise", () => {
    const box = document.createElement("div");
    document.body.appendChild(box);
    const html = (a: number, b: number) =>
      `<input data-request-qty="R1" data-sku="A" value="${a}"><input data-request-qty="R1" data-sku="B" value="${b}"><details data-keep="h"><summary>x</summary></details>`;
    box.innerHTML = html(1, 2);
    box.querySelector<HTMLInputElement>('[data-sku="A"]')!.value = "7";
    box.querySelector("details")!.open = true;
    keepingInputs(box, () => {
      box.innerHTML = html(3, 4);
    });
    expect(box.querySelector<HTMLInputElement>('[data-sku="A"]')!.value).toBe("7");
    expect(box.querySelector<HTMLInputElement>('[data-sku="B"]')!.value).toBe("4");
    expect(box.querySelector("details")!.open).toBe(true);
    box.remove();
  });
});

describe("markField", () => {
  it("marks the control a problem names and clears the previous mark", () => {
    const form = document.createElement("form");
    form.innerHTML = `<input name="price"><input name="name">`;
    markField(form, "price");
    expect(form.querySelector('[name="price"]')!.getAttribute("aria-invalid")).toBe("true");
    markField(form, "name");
    expect(form.querySelector('[name="price"]')!.classList.contains("invalid")).toBe(false);
    expect(form.querySelector('[name="name"]')!.classList.contains("invalid")).toBe(true);
    expect(markField(form, 'we"ird')).toBeNull();
  });
});
