import Grammar
