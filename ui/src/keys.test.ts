import { actionFor, padPress, ScanBuffer } from "./keys";

describe("function keys", () => {
  it("are the same on every screen", () => {
    expect(actionFor({ key: "F10" }, "sale")).toEqual({ kind: "screen", screen: "tender" });
    expect(actionFor({ key: "F8" }, "stock")).toEqual({ kind: "screen", screen: "return" });
    expect(actionFor({ key: "F12" }, "z")).toEqual({ kind: "screen", screen: "settings" });
    expect(actionFor({ key: "Escape" }, "return")).toEqual({ kind: "cancel" });
  });
  it("pay by card on the tender screen", () => {
    expect(actionFor({ key: "F2" }, "tender")).toEqual({ kind: "debit" });
    expect(actionFor({ key: "F3" }, "tender")).toEqual({ kind: "credit" });
    expect(actionFor({ key: "F2" }, "sale")).toEqual({ kind: "search" });
  });
  it("leave typing alone", () => {
    expect(actionFor({ key: "a" }, "sale")).toBeNull();
    expect(actionFor({ key: "7" }, "tender")).toBeNull();
    expect(actionFor({ key: "Enter" }, "sale")).toBeNull();
    expect(actionFor({ key: "ArrowUp" }, "stock")).toBeNull();
  });
  it("move through lines and sign out", () => {
    expect(actionFor({ key: "ArrowDown" }, "sale")).toEqual({ kind: "down" });
    expect(actionFor({ key: "Delete" }, "sale")).toEqual({ kind: "remove" });
    expect(actionFor({ key: "q", ctrlKey: true }, "sale")).toEqual({ kind: "signOut" });
  });
});

describe("the scan field's buffer", () => {
  it("hands over a burst with its times on Enter", () => {
    const b = new ScanBuffer();
    expect(b.push("1", 10)).toBeNull();
    expect(b.push("2", 14)).toBeNull();
    expect(b.push("Enter", 18)).toEqual([
      { key: "1", at_ms: 10 },
      { key: "2", at_ms: 14 },
      { key: "Enter", at_ms: 18 },
    ]);
    expect(b.text).toBe("");
  });
  it("takes keys back with Backspace and ignores keys that type nothing", () => {
    const b = new ScanBuffer();
    b.push("a", 0);
    b.push("Shift", 1);
    b.push("b", 2);
    b.push("Backspace", 3);
    expect(b.text).toBe("a");
  });
  it("puts back typed text spaced as a person types", () => {
    const b = new ScanBuffer();
    b.restore("ab", 5000);
    const burst = b.push("Enter", 5001)!;
    expect(burst.map((k) => k.key).join("")).toBe("abEnter");
    expect(burst[1].at_ms - burst[0].at_ms).toBeGreaterThan(30);
  });
});

describe("the digits pad", () => {
  it("builds an entry", () => {
    let e = "";
    for (const k of ["1", "2", ".", "5", ".", "0"]) e = padPress(e, k);
    expect(e).toBe("12.50");
    expect(padPress(e, "⌫")).toBe("12.5");
    expect(padPress(e, "C")).toBe("");
    expect(padPress("123", "x")).toBe("123");
    expect(padPress("1234", "5", 4)).toBe("1234");
  });
});
