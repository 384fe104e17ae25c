/**
 * Report objects are built from their fields, never through constructor parameters.
 *
 * The SDK registers every @object's constructor with its parameters' types (Register.addConstructor
 * in @dagger.io/dagger module/entrypoint/register.js): a parameter typed as an internal interface
 * becomes an empty interface in every caller's generated client. And the runtime never runs these
 * constructors anyway: the next call on a returned object rebuilds it from the JSON of its own
 * properties with Object.create + Object.assign (module/executor.js, buildClass), and loadResult
 * refuses a property the scanner does not know. So a report object is its @func fields, nothing more.
 */
/** An object's data: its properties without its methods, as the engine stores them between calls. */
export type Fields<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/** A report object from every one of its fields (the compiler checks none is missing). */
export function make<T extends object>(cls: new () => T, fields: Fields<T>): T {
  return Object.assign(new cls(), fields);
}
