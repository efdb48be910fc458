/** dcmjs ships no typings; dicom-json.ts narrows the one part it reads (the data dictionary). */
declare module 'dcmjs' {
  const dcmjs: unknown;
  export default dcmjs;
}
