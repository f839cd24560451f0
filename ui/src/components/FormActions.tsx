// A form's last row: its error in plain words, the action and Cancel.
import { ErrorNote } from "./Notes";

interface Props {
  action: string;
  pending: boolean;
  error: unknown;
  onCancel: () => void;
}

export function FormActions({ action, pending, error, onCancel }: Props) {
  return (
    <>
      {error ? <ErrorNote error={error} /> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={pending}>
          {action}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
