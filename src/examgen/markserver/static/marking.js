// The marking screen: rubric notes that set the points, annotations on the answer's images, undo,
// and the keyboard (digits, Enter, Alt+digit, V/X/T, +/- zoom, Ctrl+Z). The form posts plainly; this
// only fills its hidden fields. Also the examiner's confirmations.
"use strict";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
});

const stateElement = document.getElementById("state");
if (stateElement) {
  const state = JSON.parse(stateElement.textContent);
  const form = document.getElementById("mark-form");
  const points = document.getElementById("points");
  const noteBoxes = [...form.querySelectorAll("input[name=note]")];
  const textInput = document.getElementById("annotation-text");
  const GLYPHS = { tick: "✓", cross: "✗" };
  let annotations = state.annotations;
  let tool = "tick";
  const history = [];  // snapshots before each change, for undo

  const snapshot = () => ({ annotations: annotations.map((a) => ({ ...a })), points: points.value,
                            notes: noteBoxes.map((box) => box.checked) });
  const remember = () => { history.push(snapshot()); };

  function restore(saved) {
    annotations = saved.annotations;
    points.value = saved.points;
    noteBoxes.forEach((box, index) => { box.checked = saved.notes[index]; });
    draw();
  }

  function selectTool(name) {
    tool = name;
    document.querySelectorAll("[data-tool]").forEach((button) => {
      button.classList.toggle("active", button.dataset.tool === name);
    });
    if (name === "text") textInput.focus();
  }

  function draw() {
    document.querySelectorAll(".space").forEach((space) => {
      const layer = space.querySelector(".layer");
      layer.replaceChildren();
      annotations.forEach((annotation, index) => {
        if (annotation.space !== Number(space.dataset.space)) return;
        const mark = document.createElement("span");
        mark.className = `annotation ${annotation.kind}`;
        mark.textContent = annotation.kind === "text" ? annotation.text : GLYPHS[annotation.kind];
        mark.style.left = `${annotation.x * 100}%`;
        mark.style.top = `${annotation.y * 100}%`;
        mark.title = "click to remove";
        mark.addEventListener("click", (event) => {
          event.stopPropagation();
          remember();
          annotations.splice(index, 1);
          draw();
        });
        layer.appendChild(mark);
      });
    });
    form.elements.annotations.value = JSON.stringify(annotations);
  }

  // A note's points: credits add up to the points; with deductions only, they come off the maximum.
  function pointsFromNotes() {
    const applied = noteBoxes.filter((box) => box.checked).map((box) => state.notes[Number(box.value)])
      .filter((value) => value !== null);
    if (!applied.length) return;
    const credits = applied.some((value) => value > 0);
    const total = applied.reduce((sum, value) => sum + value, credits ? 0 : state.max);
    points.value = String(Math.min(state.max, Math.max(0, total)));
  }

  noteBoxes.forEach((box) => {
    box.addEventListener("click", () => {
      const before = snapshot();
      before.notes[noteBoxes.indexOf(box)] = !box.checked;
      history.push(before);
      pointsFromNotes();
    });
  });

  document.querySelectorAll(".space").forEach((space) => {
    space.addEventListener("click", (event) => {
      const box = space.querySelector("img").getBoundingClientRect();
      const x = (event.clientX - box.left) / box.width;
      const y = (event.clientY - box.top) / box.height;
      if (x < 0 || x > 1 || y < 0 || y > 1) return;
      if (tool === "text" && !textInput.value.trim()) { textInput.focus(); return; }
      remember();
      annotations.push({ kind: tool, x: Math.round(x * 1e4) / 1e4, y: Math.round(y * 1e4) / 1e4,
                         text: tool === "text" ? textInput.value.trim() : "", space: Number(space.dataset.space) });
      draw();
    });
  });
  document.querySelectorAll("[data-tool]").forEach((button) => {
    button.addEventListener("click", () => selectTool(button.dataset.tool));
  });

  // The answer's size, the grader's choice kept for the next answers (in this browser): fit to the
  // column (100%), larger to read small handwriting, smaller to see a long answer whole.
  const ZOOMS = [50, 67, 80, 100, 125, 150, 200, 250];
  let zoom = ZOOMS.includes(Number(localStorage.getItem("examgen-zoom"))) ? Number(localStorage.getItem("examgen-zoom")) : 100;
  function zoomBy(step) {
    zoom = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, ZOOMS.indexOf(zoom) + step))];
    localStorage.setItem("examgen-zoom", String(zoom));
    document.querySelectorAll(".space").forEach((space) => {
      space.style.width = `${zoom}%`;
      space.style.maxWidth = zoom > 100 ? "none" : "";
    });
    document.getElementById("zoom-level").textContent = `${zoom}%`;
  }
  document.getElementById("zoom-in").addEventListener("click", () => zoomBy(1));
  document.getElementById("zoom-out").addEventListener("click", () => zoomBy(-1));

  function undo() {
    if (history.length) restore(history.pop());
  }
  document.getElementById("undo").addEventListener("click", undo);
  points.addEventListener("focus", () => remember());

  document.addEventListener("keydown", (event) => {
    const typing = event.target.matches("textarea, input:not(#points):not([type=checkbox])");
    if ((event.ctrlKey || event.metaKey) && event.key === "z" && !typing) {
      event.preventDefault();
      undo();
    } else if (event.altKey && /^Digit[1-9]$/.test(event.code)) {  // the key, not its character (Option+1 is '¡')
      event.preventDefault();
      const box = noteBoxes[Number(event.code.slice(-1)) - 1];
      if (box) box.click();
    } else if (event.key === "Enter" && event.target.tagName !== "TEXTAREA" && !event.target.matches("button")) {
      event.preventDefault();
      form.requestSubmit(document.getElementById("save"));
    } else if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const tools = { v: "tick", x: "cross", t: "text" };
      if (tools[event.key.toLowerCase()]) {
        event.preventDefault();
        selectTool(tools[event.key.toLowerCase()]);
      } else if (event.key === "+" || event.key === "-") {
        event.preventDefault();
        zoomBy(event.key === "+" ? 1 : -1);
      } else if (/^[0-9.,]$/.test(event.key) && event.target !== points) {
        event.preventDefault();
        remember();
        points.focus();
        points.value += event.key;
      }
    }
  });
  form.addEventListener("submit", () => { form.elements.annotations.value = JSON.stringify(annotations); });
  selectTool("tick");
  zoomBy(0);
  draw();
  points.focus();
  points.select();
}
