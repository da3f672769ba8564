/** Topic/entity-safe form of a label or source id: "Baby cry, infant cry" -> "baby_cry_infant_cry". */
export function slug(s: string): string {
  return (
    s
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || '_'
  );
}
