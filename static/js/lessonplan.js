// lessonplan.js — the lesson panel of a room's owner page (templates/
// lesson.templ): the lesson's prompts in order, each with an Ask button.
// A click marks the prompt as the current one and dispatches a
// "lesson-prompt" event on the document whose detail is { index, spec }:
// the prompt as the lesson gives it (protocol.PromptSpec), for the
// predict-then-reveal feature to ask the class. The pure part takes no DOM.

// LESSON_PROMPT is the name of the event an Ask button dispatches.
export const LESSON_PROMPT = 'lesson-prompt';

// lessonPromptDetail is the detail of the event of the prompt at index of
// the lesson's prompts specs (as the page's JSON holds them), or null if
// there is none.
export function lessonPromptDetail(specs, index) {
  const i = Number(index);
  if (!Array.isArray(specs) || !Number.isInteger(i) || i < 0 || i >= specs.length) return null;
  return { index: i, spec: specs[i] };
}

// installLessonPlan connects the lesson panel of doc, if any.
export function installLessonPlan(doc) {
  const data = doc.getElementById('lesson-prompts-data');
  if (!data) return;
  let specs = [];
  try { specs = JSON.parse(data.textContent); } catch { return; }
  for (const button of doc.querySelectorAll('.lesson-ask[data-prompt-index]')) {
    button.addEventListener('click', () => {
      const detail = lessonPromptDetail(specs, button.dataset.promptIndex);
      if (!detail) return;
      for (const li of doc.querySelectorAll('.lesson-prompt')) {
        if (li.dataset.promptIndex === String(detail.index)) li.setAttribute('aria-current', 'step');
        else li.removeAttribute('aria-current');
      }
      doc.dispatchEvent(new CustomEvent(LESSON_PROMPT, { detail }));
    });
  }
}
