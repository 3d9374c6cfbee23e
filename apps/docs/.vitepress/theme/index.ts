import DefaultTheme from "vitepress/theme";
import "./fonts.css";

/** The default theme with a font stack that renders Hangul as well as Latin text. */
export default DefaultTheme;
