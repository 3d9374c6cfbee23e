import DefaultTheme from "vitepress/theme";
import "./fonts.css";
import "./fit.css";

/** The default theme with a font stack that renders Hangul, and tables and code that fit. */
export default DefaultTheme;
