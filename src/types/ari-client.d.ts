// ari-client ships no types; src/pbx/asterisk/ari-call-control.ts types the parts it uses.
declare module 'ari-client' {
  const ari: { connect(url: string, user: string, password: string): Promise<unknown> };
  export default ari;
}
