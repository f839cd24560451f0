// @vitest-environment jsdom
// Leaving the editor with unsaved changes asks first (in the page for the app's own links, the
// browser's prompt on unload); with nothing unsaved, nobody is asked.
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createMemoryRouter, Link, RouterProvider } from "react-router-dom";
import { afterEach, describe, expect, it } from "vitest";
import { LeaveWarning, SaveState } from "./Unsaved";

afterEach(cleanup);

function draw(dirty: boolean) {
  const router = createMemoryRouter(
    [
      {
        path: "/editor",
        element: (
          <>
            <SaveState dirty={dirty} saving={false} />
            <LeaveWarning dirty={dirty} />
            <Link to="/elsewhere">Journeys</Link>
          </>
        ),
      },
      { path: "/elsewhere", element: <h1>Elsewhere</h1> },
    ],
    { initialEntries: ["/editor"] },
  );
  render(<RouterProvider router={router} />);
  return userEvent.setup({ delay: null });
}

function unload(): Event {
  const event = new Event("beforeunload", { cancelable: true });
  window.dispatchEvent(event);
  return event;
}

describe("leaving with unsaved changes", () => {
  it("asks first, and stays or leaves as told", async () => {
    const user = draw(true);
    expect(screen.getByRole("status").textContent).toBe("Unsaved changes");
    await user.click(screen.getByRole("link", { name: "Journeys" }));
    expect(screen.getByRole("alertdialog", { name: "Leave without saving?" })).toBeTruthy();
    expect(document.activeElement?.textContent).toBe("Stay and keep editing");
    await user.click(screen.getByRole("button", { name: "Stay and keep editing" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(screen.queryByRole("heading", { name: "Elsewhere" })).toBeNull();

    await user.click(screen.getByRole("link", { name: "Journeys" }));
    await user.click(screen.getByRole("button", { name: "Leave without saving" }));
    expect(screen.getByRole("heading", { name: "Elsewhere" })).toBeTruthy();
  });

  it("has the browser ask before the tab closes or reloads", () => {
    draw(true);
    expect(unload().defaultPrevented).toBe(true);
  });

  it("asks nothing when the draft is saved", async () => {
    const user = draw(false);
    expect(screen.getByRole("status").textContent).toBe("Draft saved");
    expect(unload().defaultPrevented).toBe(false);
    await user.click(screen.getByRole("link", { name: "Journeys" }));
    expect(screen.getByRole("heading", { name: "Elsewhere" })).toBeTruthy();
  });
});
