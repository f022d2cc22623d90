export async function runSsh(_argv: string[]): Promise<number> { return 2; }
