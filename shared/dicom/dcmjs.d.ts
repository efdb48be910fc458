/** dcmjs ships no typings; scripts/gen-vr-table.ts reads its data dictionary module. */
declare module 'dcmjs/dictionary' {
  const dictionary: Record<string, { vr: string }>;
  export default dictionary;
}
