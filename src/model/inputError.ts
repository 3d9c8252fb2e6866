/** Bad input from the user (a file, a text, an option): the CLI exits 2 and shows the message as is. */
export class InputError extends Error {
  override name = 'InputError';
}
