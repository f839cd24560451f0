import { useKinds } from "./queries";

/** A connector's name as its vendor spells it ("customerio" reads "Customer.io"), from the
 * catalog; until the catalog has loaded (or for a kind it no longer lists), the kind itself. */
export function KindTitle({ kind }: { kind: string }) {
  const kinds = useKinds();
  return <>{kinds.data?.find((found) => found.kind === kind)?.title ?? kind}</>;
}
