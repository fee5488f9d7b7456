import { badDay, dayInput, isIsoDay } from "./dates";

describe("ISO date boxes", () => {
  it("accept real days written yyyy-mm-dd only", () => {
    expect(isIsoDay("2026-03-09")).toBe(true);
    expect(isIsoDay("2024-02-29")).toBe(true);
    expect(isIsoDay("2026-02-29")).toBe(false);
    expect(isIsoDay("03/09/2026")).toBe(false);
    expect(isIsoDay("2026-3-9")).toBe(false);
    expect(isIsoDay("")).toBe(false);
  });
  it("are text boxes whatever the locale, and name the first bad one", () => {
    const form = document.createElement("form");
    form.innerHTML = dayInput("a", "from", "2026-03-01", "fr", true) + dayInput("b", "to", "", "en");
    const from = form.querySelector<HTMLInputElement>("#a")!;
    expect(from.type).toBe("text");
    expect(from.placeholder).toBe("aaaa-mm-jj");
    expect(badDay(form)).toBeNull();
    form.querySelector<HTMLInputElement>("#b")!.value = "03/09/2026";
    expect(badDay(form)!.name).toBe("to");
    from.value = "";
    expect(badDay(form)!.name).toBe("from");
  });
});
