// A value to copy (a write key, a snippet): shown once where it is secret.
import { useState } from "react";

export function Copy({ label, value, block = false }: { label: string; value: string; block?: boolean }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className={block ? "copy block" : "copy"}>
      {block ? (
        <pre aria-label={label} tabIndex={0}>
          <code>{value}</code>
        </pre>
      ) : (
        <code aria-label={label}>{value}</code>
      )}
      <button type="button" onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}
