// The draft's saved state, said plainly, and a question before leaving with unsaved changes:
// going elsewhere in the app asks in the page; closing or reloading the tab asks through the
// browser's own prompt (the only one a page may raise then).
import { useEffect, useRef } from "react";
import { useBlocker } from "react-router-dom";

export function SaveState({ dirty, saving }: { dirty: boolean; saving: boolean }) {
  const state = saving ? "saving" : dirty ? "unsaved" : "saved";
  const words = { saving: "Saving…", unsaved: "Unsaved changes", saved: "Draft saved" }[state];
  return (
    <span className={`save-state ${state}`} role="status">
      {words}
    </span>
  );
}

/** While `dirty`, leaving the editor asks first. */
export function LeaveWarning({ dirty }: { dirty: boolean }) {
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  const stay = useRef<HTMLButtonElement>(null);
  const blocked = blocker.state === "blocked";
  useEffect(() => {
    if (blocked) stay.current?.focus();
  }, [blocked]);
  if (!blocked) return null;
  return (
    <div className="overlay">
      <div className="card narrow" role="alertdialog" aria-modal="true" aria-labelledby="leave-title" aria-describedby="leave-text">
        <h2 id="leave-title">Leave without saving?</h2>
        <p id="leave-text">This journey has changes that are not saved. Leaving now loses them; stay to save the draft first.</p>
        <div className="row">
          <button type="button" className="primary" ref={stay} onClick={() => blocker.reset()}>
            Stay and keep editing
          </button>
          <button type="button" className="danger" onClick={() => blocker.proceed()}>
            Leave without saving
          </button>
        </div>
      </div>
    </div>
  );
}
