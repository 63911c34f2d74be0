import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ENGLISH, type Language, type MessageKey } from "./messages.ts";

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

interface I18n {
  language: Language;
  setLanguage(language: Language): void;
  t: Translate;
}

const STORAGE_KEY = "language";
const I18nContext = createContext<I18n | undefined>(undefined);

/** English unless the person chose French on this device (kept in localStorage). */
function initialLanguage(): Language {
  return localStorage.getItem(STORAGE_KEY) === "fr" ? "fr" : "en";
}

/** `{name}` in a message is replaced by `values.name`. */
function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState(initialLanguage);
  const [messages, setMessages] = useState<Record<MessageKey, string>>(ENGLISH);
  useEffect(() => {
    let current = true;
    document.documentElement.lang = language;
    // French arrives with its own chunk: English shows for the moment it takes.
    const load = language === "fr" ? import("./messages.fr.ts").then((module) => module.FRENCH) : Promise.resolve(ENGLISH);
    void load.then((loaded) => current && setMessages(loaded));
    return () => {
      current = false;
    };
  }, [language]);
  const setLanguage = useCallback((next: Language) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLanguageState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({ language, setLanguage, t: (key, values) => format(messages[key], values) }),
    [language, setLanguage, messages],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error("useI18n outside I18nProvider");
  return i18n;
}

export const useT = (): Translate => useI18n().t;

/** Dates and times in the person's language. */
export function useFormatDate(): (iso: string) => string {
  const { language } = useI18n();
  return useMemo(() => {
    const formatter = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" });
    return (iso: string) => formatter.format(new Date(iso));
  }, [language]);
}
