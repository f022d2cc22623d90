// TOML files imported `with { type: "text" }` are their text.
declare module "*.toml" {
  const text: string;
  export default text;
}
