import { Problem } from "./api";
import { markProblemField, sentence } from "./problem";

describe("a refusal on the storefront", () => {
  it("reads as the page's own sentence, without an 'Error:' prefix", () => {
    expect(sentence(new Error("Name at least one item."), "offline")).toBe("Name at least one item.");
    expect(sentence(new Problem(422, { detail: "card refused", field: "card_number" }), "offline")).toBe("card refused");
    expect(sentence(new Problem(0, { title: "network" }), "offline")).toBe("offline");
    expect(sentence("plain", "offline")).toBe("plain");
  });

  it("marks the claim line a `lines[k]` field names: the k-th line sent, not the k-th shown", () => {
    const form = document.createElement("form");
    form.innerHTML = `<input name="line-0" data-line="1" value="0"><input name="line-1" data-line="2" data-sent="0" value="1"><input name="line-2" data-line="3" data-sent="1" value="2"><textarea name="description"></textarea>`;
    expect(markProblemField(form, "lines[1].quantity")?.getAttribute("name")).toBe("line-2");
    expect(form.querySelectorAll("[aria-invalid]").length).toBe(1);
    expect(markProblemField(form, "lines")?.getAttribute("name")).toBe("line-0");
    expect(form.querySelector("[name=line-2]")!.hasAttribute("aria-invalid")).toBe(false);
    expect(markProblemField(form, "description")?.getAttribute("name")).toBe("description");
    expect(markProblemField(form, "lines[5].line_number")).toBeNull();
    expect(markProblemField(form, "linesx")).toBeNull();
  });
});
