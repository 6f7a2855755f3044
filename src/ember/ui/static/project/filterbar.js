// The filter bar's error: the server's message, and the filter text echoed with the offending
// part marked (the 400's error.position: character offsets, end exclusive). Offsets count
// Unicode code points, as Python does, so the text is split with Array.from, not by UTF-16
// units.

export class FilterBar {
  constructor(input, box, echo, message) {
    this.input = input;
    this.box = box;
    this.echo = echo;
    this.message = message;
  }

  clear() {
    this.box.hidden = true;
    this.input.removeAttribute("aria-invalid");
    this.echo.replaceChildren();
    this.message.textContent = "";
  }

  /** Show `error` (the JSON envelope's `error`) for the filter `text`, as it was sent. */
  show(text, error) {
    this.box.hidden = false;
    this.input.setAttribute("aria-invalid", "true");
    this.message.textContent = error.message || "This filter cannot be used.";
    const chars = Array.from(text);
    const position = error.position;
    if (!position) {
      this.echo.replaceChildren(document.createTextNode(text));
      return;
    }
    const clamp = (n) => Math.min(Math.max(n, 0), chars.length);
    const start = clamp(position.start);
    let end = clamp(position.end);
    const mark = document.createElement("mark");
    mark.className = "filter-mistake";
    if (end <= start) {
      // Nothing of the user's own text to mark (e.g. it ended too early): mark its end.
      mark.classList.add("is-empty");
      end = start;
    }
    mark.textContent = chars.slice(start, end).join("") || " ";
    this.echo.replaceChildren(
      document.createTextNode(chars.slice(0, start).join("")),
      mark,
      document.createTextNode(chars.slice(end).join("")),
    );
    // Select the part in the input too (offsets in UTF-16 units there).
    const before = chars.slice(0, start).join("").length;
    const inside = chars.slice(start, end).join("").length;
    this.input.setSelectionRange(before, before + inside);
  }
}
