// "Load more" under a list that loads its older pages on demand (an infinite query).

interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** The button, while there is more; ``loading`` says what is coming ("Loading older exports…"). */
export function LoadMore({ pages, loading }: { pages: Pages; loading: string }) {
  if (!pages.hasNextPage) return null;
  return (
    <button type="button" onClick={() => pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
      {pages.isFetchingNextPage ? loading : "Load more"}
    </button>
  );
}
