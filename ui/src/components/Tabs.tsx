// Tabs as the ARIA pattern has them (arrow keys move between tabs); the choice is kept in
// the address (?tab=...) so that a link opens the same tab.
import { type KeyboardEvent, type ReactNode, useRef } from "react";
import { useSearchParams } from "react-router-dom";

interface Tab {
  id: string;
  label: string;
  content: ReactNode;
}

export function Tabs({ label, tabs }: { label: string; tabs: Tab[] }) {
  const [search, setSearch] = useSearchParams();
  const current = tabs.find((t) => t.id === search.get("tab")) ?? tabs[0]!;
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const choose = (id: string) =>
    setSearch(
      (previous) => {
        const next = new URLSearchParams(previous);
        next.set("tab", id);
        return next;
      },
      { replace: true },
    );
  const keys = (event: KeyboardEvent, index: number) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = (index + step + tabs.length) % tabs.length;
    choose(tabs[next]!.id);
    buttons.current[next]?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label}>
        {tabs.map((tab, index) => (
          <button
            key={tab.id}
            ref={(element) => {
              buttons.current[index] = element;
            }}
            type="button"
            role="tab"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === current.id}
            aria-controls={`panel-${tab.id}`}
            tabIndex={tab.id === current.id ? 0 : -1}
            onClick={() => choose(tab.id)}
            onKeyDown={(event) => keys(event, index)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current.id}`} aria-labelledby={`tab-${current.id}`}>
        {current.content}
      </div>
    </div>
  );
}
